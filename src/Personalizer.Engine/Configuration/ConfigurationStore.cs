using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Personalizer.Engine.Configuration;

public enum ConfigChangeStatus
{
    Applied,
    NotFound,
    UnknownVersion,
}

public readonly record struct ConfigChangeResult(ConfigChangeStatus Status, int Version);

/// <summary>
/// The configuration of every site: the current version for readers (one volatile reference) and the
/// full history for audit and rollback. Written only by the pipeline's applier, in log order.
/// </summary>
public sealed class ConfigurationStore
{
    private readonly ConcurrentDictionary<string, SiteState> _sites = new(StringComparer.Ordinal);

    public SiteConfiguration Current(string site) =>
        _sites.TryGetValue(site, out var s) ? s.Current : SiteConfiguration.Empty;

    public ImmutableArray<SiteConfiguration> History(string site) =>
        _sites.TryGetValue(site, out var s) ? s.History : [];

    public IEnumerable<string> Sites => _sites.Keys;

    internal ConfigChangeResult Apply(string site, ConfigChange change)
    {
        var state = _sites.GetOrAdd(site, static _ => new SiteState());
        var current = state.Current;
        var slots = current.Slots.Values.AsEnumerable();
        var rules = current.Rules.Values.AsEnumerable();
        var segments = current.Segments.Values.AsEnumerable();
        var experiments = current.Experiments.Values.AsEnumerable();
        var triggers = current.Triggers.Values.AsEnumerable();
        string summary;
        switch (change.Kind)
        {
            case ConfigChangeKind.PutSlot when change.Slot is not null:
                summary = (current.Slots.ContainsKey(change.Id) ? "updated" : "created") + $" slot {change.Id}";
                slots = slots.Where(s => s.Id != change.Id).Append(change.Slot);
                break;
            case ConfigChangeKind.DeleteSlot:
                if (!current.Slots.ContainsKey(change.Id))
                {
                    return new(ConfigChangeStatus.NotFound, current.Version);
                }
                summary = $"deleted slot {change.Id}";
                slots = slots.Where(s => s.Id != change.Id);
                break;
            case ConfigChangeKind.PutRule when change.Rule is not null:
                summary = (current.Rules.ContainsKey(change.Id) ? "updated" : "created") + $" rule {change.Id}";
                rules = rules.Where(r => r.Id != change.Id).Append(change.Rule);
                break;
            case ConfigChangeKind.DeleteRule:
                if (!current.Rules.ContainsKey(change.Id))
                {
                    return new(ConfigChangeStatus.NotFound, current.Version);
                }
                summary = $"deleted rule {change.Id}";
                rules = rules.Where(r => r.Id != change.Id);
                break;
            case ConfigChangeKind.PutSegment when change.Segment is not null:
                summary = (current.Segments.ContainsKey(change.Id) ? "updated" : "created") + $" segment {change.Id}";
                segments = segments.Where(s => s.Id != change.Id).Append(change.Segment);
                break;
            case ConfigChangeKind.DeleteSegment:
                if (!current.Segments.ContainsKey(change.Id))
                {
                    return new(ConfigChangeStatus.NotFound, current.Version);
                }
                summary = $"deleted segment {change.Id}";
                segments = segments.Where(s => s.Id != change.Id);
                break;
            case ConfigChangeKind.PutExperiment when change.Experiment is not null:
                summary = (current.Experiments.ContainsKey(change.Id) ? "updated" : "created") + $" experiment {change.Id} ({change.Experiment.Status.ToString().ToLowerInvariant()})";
                var started = current.Experiments.TryGetValue(change.Id, out var before) && before.StartedAt > 0 ? before.StartedAt
                    : change.Experiment.Status == ExperimentStatus.Running ? change.At : 0;
                var stored = change.Experiment with { StartedAt = started };
                experiments = experiments.Where(e => e.Id != change.Id).Append(stored);
                break;
            case ConfigChangeKind.DeleteExperiment:
                if (!current.Experiments.ContainsKey(change.Id))
                {
                    return new(ConfigChangeStatus.NotFound, current.Version);
                }
                summary = $"deleted experiment {change.Id}";
                experiments = experiments.Where(e => e.Id != change.Id);
                break;
            case ConfigChangeKind.PutTrigger when change.Trigger is not null:
                summary = (current.Triggers.ContainsKey(change.Id) ? "updated" : "created") + $" trigger {change.Id}";
                triggers = triggers.Where(t => t.Id != change.Id).Append(change.Trigger);
                break;
            case ConfigChangeKind.DeleteTrigger:
                if (!current.Triggers.ContainsKey(change.Id))
                {
                    return new(ConfigChangeStatus.NotFound, current.Version);
                }
                summary = $"deleted trigger {change.Id}";
                triggers = triggers.Where(t => t.Id != change.Id);
                break;
            case ConfigChangeKind.Rollback:
                var target = state.History.FirstOrDefault(v => v.Version == change.TargetVersion);
                if (target is null)
                {
                    return new(ConfigChangeStatus.UnknownVersion, current.Version);
                }
                summary = $"rolled back to version {target.Version}";
                slots = target.Slots.Values;
                rules = target.Rules.Values;
                segments = target.Segments.Values;
                experiments = target.Experiments.Values;
                triggers = target.Triggers.Values;
                break;
            default:
                throw new InvalidOperationException($"Configuration change {change.Kind} is incomplete.");
        }

        var next = new SiteConfiguration(current.Version + 1, change.At, change.Author, summary, slots, rules, segments, experiments, triggers);
        state.Publish(next);
        return new(ConfigChangeStatus.Applied, next.Version);
    }

    internal Dictionary<string, StoredConfigurationVersion[]> Snapshot() =>
        _sites.ToDictionary(kv => kv.Key, kv => kv.Value.History.Select(StoredConfigurationVersion.From).ToArray(), StringComparer.Ordinal);

    internal void Restore(Dictionary<string, StoredConfigurationVersion[]> snapshot)
    {
        _sites.Clear();
        foreach (var (site, versions) in snapshot)
        {
            var state = new SiteState();
            foreach (var v in versions.OrderBy(v => v.Version))
            {
                state.Publish(v.ToConfiguration());
            }
            _sites[site] = state;
        }
    }

    private sealed class SiteState
    {
        private volatile SiteConfiguration _current = SiteConfiguration.Empty;
        private ImmutableArray<SiteConfiguration> _history = [];

        public SiteConfiguration Current => _current;
        public ImmutableArray<SiteConfiguration> History => _history;

        public void Publish(SiteConfiguration next)
        {
            _history = _history.Add(next);
            _current = next;
        }
    }
}

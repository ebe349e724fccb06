using System.Collections.Frozen;
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
        var summary = "";
        var found = true;
        switch (change.Kind)
        {
            case ConfigChangeKind.PutSlot or ConfigChangeKind.DeleteSlot:
                slots = Change(current.Slots, change, change.Kind == ConfigChangeKind.PutSlot ? Required(change.Slot, change) : null, "slot", ref summary, ref found);
                break;
            case ConfigChangeKind.PutRule or ConfigChangeKind.DeleteRule:
                rules = Change(current.Rules, change, change.Kind == ConfigChangeKind.PutRule ? Required(change.Rule, change) : null, "rule", ref summary, ref found);
                break;
            case ConfigChangeKind.PutSegment or ConfigChangeKind.DeleteSegment:
                segments = Change(current.Segments, change, change.Kind == ConfigChangeKind.PutSegment ? Required(change.Segment, change) : null, "segment", ref summary, ref found);
                break;
            case ConfigChangeKind.PutExperiment or ConfigChangeKind.DeleteExperiment:
                ExperimentDefinition? experiment = null;
                if (change.Kind == ConfigChangeKind.PutExperiment)
                {
                    // Results count from the first time it ran; later edits keep that start.
                    var put = Required(change.Experiment, change);
                    var started = current.Experiments.TryGetValue(change.Id, out var before) && before.StartedAt > 0 ? before.StartedAt
                        : put.Status == ExperimentStatus.Running ? change.At : 0;
                    experiment = put with { StartedAt = started };
                }
                experiments = Change(current.Experiments, change, experiment, "experiment", ref summary, ref found);
                if (experiment is not null)
                {
                    summary += $" ({experiment.Status.ToString().ToLowerInvariant()})";
                }
                break;
            case ConfigChangeKind.PutTrigger or ConfigChangeKind.DeleteTrigger:
                triggers = Change(current.Triggers, change, change.Kind == ConfigChangeKind.PutTrigger ? Required(change.Trigger, change) : null, "trigger", ref summary, ref found);
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
        if (!found)
        {
            return new(ConfigChangeStatus.NotFound, current.Version);
        }

        var next = new SiteConfiguration(current.Version + 1, change.At, change.Author, summary, slots, rules, segments, experiments, triggers);
        state.Publish(next);
        return new(ConfigChangeStatus.Applied, next.Version);
    }

    /// <summary>
    /// One collection with <paramref name="item"/> put in (created or updated) or, when null, the entry of
    /// the change's id taken out; <paramref name="found"/> turns false when there is nothing to delete.
    /// </summary>
    private static IEnumerable<T> Change<T>(FrozenDictionary<string, T> current, ConfigChange change, T? item, string noun, ref string summary, ref bool found)
        where T : class
    {
        var exists = current.ContainsKey(change.Id);
        found = item is not null || exists;
        summary = item is null ? $"deleted {noun} {change.Id}" : $"{(exists ? "updated" : "created")} {noun} {change.Id}";
        var id = change.Id;
        var rest = current.Where(kv => kv.Key != id).Select(kv => kv.Value);
        return item is null ? rest : rest.Append(item);
    }

    private static T Required<T>(T? value, ConfigChange change) where T : class =>
        value ?? throw new InvalidOperationException($"Configuration change {change.Kind} of '{change.Id}' carries no definition.");

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

using Personalizer.Engine.Configuration;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Testing;

/// <summary>
/// The figures of the slot report and of experiment results computed the slow way: one pass over the
/// whole log, in log order, with the documented rules (docs/experiments.md), independently of the
/// counters. Visitors are followed through identify merges; tracking refused drops their impressions and
/// events and forgets what they were shown; an event id already applied for a visitor is a duplicate.
/// </summary>
public sealed class LogScan
{
    public Dictionary<(string Slot, string Variant, string Source, long Day), (long Impressions, long Clicks, long Conversions, double Revenue)> Slots { get; } = [];

    public Dictionary<(string Experiment, string Arm), (int Exposed, int Converted, double Revenue)> Arms { get; } = [];

    private readonly Dictionary<string, string> _redirect = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _customer = new(StringComparer.Ordinal);
    private readonly HashSet<string> _denied = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, (string Variant, string Source, long At)>> _shown = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Exposed>> _exposed = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _seen = [];

    private sealed class Exposed
    {
        public string Arm = "";
        public long At;
        public bool Converted;
    }

    public static LogScan Of(IEventLog log, RecordTypes types, string site, IReadOnlyDictionary<string, ExperimentDefinition> experiments)
    {
        var scan = new LogScan();
        foreach (var (_, record) in LogReader.Read(log, types))
        {
            if (record.Site != site)
            {
                continue;
            }
            switch (record)
            {
                case ImpressionBatchRecord r:
                    foreach (var impression in r.Impressions)
                    {
                        scan.Show(impression, experiments);
                    }
                    break;
                case EventBatchRecord r:
                    var inRecord = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var e in r.Events)
                    {
                        if (!inRecord.Add(e.EventId) || scan._seen.Contains((e.VisitorId, e.EventId)))
                        {
                            continue;
                        }
                        var holder = scan.Resolve(e.VisitorId);
                        if (scan._denied.Contains(holder))
                        {
                            continue; // dropped, and not claimed
                        }
                        scan._seen.Add((e.VisitorId, e.EventId));
                        if (e.Type == EventType.Identify)
                        {
                            scan.Identify(holder, e.CustomerId!);
                        }
                        else
                        {
                            scan.Attribute(holder, e, experiments);
                        }
                    }
                    break;
                case PreferencesRecord r:
                    var who = scan.Resolve(r.VisitorId);
                    if (r.Preferences.Tracking == TrackingConsent.Denied)
                    {
                        if (scan._denied.Add(who))
                        {
                            scan._shown.Remove(who);
                            scan._exposed.Remove(who);
                        }
                    }
                    else
                    {
                        scan._denied.Remove(who);
                    }
                    break;
            }
        }
        return scan;
    }

    private string Resolve(string visitor)
    {
        while (_redirect.TryGetValue(visitor, out var next))
        {
            visitor = next;
        }
        return visitor;
    }

    private void Show(Impression impression, IReadOnlyDictionary<string, ExperimentDefinition> experiments)
    {
        var holder = Resolve(impression.VisitorId);
        if (_denied.Contains(holder))
        {
            return;
        }
        var shown = Of(_shown, holder);
        foreach (var slot in impression.Slots)
        {
            var variant = slot.Variant ?? "(items)";
            var source = slot.Source.StartsWith("recs:", StringComparison.Ordinal) ? "recommendations" : slot.Source;
            var key = (slot.SlotId, variant, source, CounterKeys.Day(impression.At));
            var row = Slots.GetValueOrDefault(key);
            Slots[key] = row with { Impressions = row.Impressions + 1 };
            if (!shown.TryGetValue(slot.SlotId, out var before) || before.At <= impression.At)
            {
                shown[slot.SlotId] = (variant, source, impression.At);
            }
            if (slot.Source.StartsWith("experiment:", StringComparison.Ordinal))
            {
                var parts = slot.Source["experiment:".Length..].Split('/');
                var exposed = Of(_exposed, holder);
                if (experiments.ContainsKey(parts[0]) && !exposed.ContainsKey(parts[0]))
                {
                    exposed[parts[0]] = new Exposed { Arm = parts[1], At = impression.At };
                    var arm = Arms.GetValueOrDefault((parts[0], parts[1]));
                    Arms[(parts[0], parts[1])] = arm with { Exposed = arm.Exposed + 1 };
                }
            }
        }
    }

    private void Attribute(string holder, TrackedEvent e, IReadOnlyDictionary<string, ExperimentDefinition> experiments)
    {
        var shown = Of(_shown, holder);
        var day = CounterKeys.Day(e.Timestamp);
        if (e.Type == EventType.SlotClick && e.SlotId is { } slot && shown.TryGetValue(slot, out var s) && s.At <= e.Timestamp)
        {
            var key = (slot, e.Variant ?? s.Variant, s.Source, day);
            var row = Slots.GetValueOrDefault(key);
            Slots[key] = row with { Clicks = row.Clicks + 1 };
        }
        if (e.Type == EventType.Purchase)
        {
            foreach (var (id, (variant, source, at)) in shown)
            {
                if (at <= e.Timestamp && at >= e.Timestamp - (24 * 3_600_000L))
                {
                    var key = (id, variant, source, day);
                    var row = Slots.GetValueOrDefault(key);
                    Slots[key] = row with { Conversions = row.Conversions + 1, Revenue = row.Revenue + e.Revenue };
                }
            }
        }
        foreach (var (experiment, exposure) in Of(_exposed, holder))
        {
            var definition = experiments[experiment];
            if (e.Timestamp < exposure.At || e.Timestamp > exposure.At + (long)(definition.AttributionHours * 3_600_000))
            {
                continue;
            }
            var arm = Arms.GetValueOrDefault((experiment, exposure.Arm));
            if (!exposure.Converted && EventTypes.Name(e.Type) == definition.Goal)
            {
                exposure.Converted = true;
                arm = arm with { Converted = arm.Converted + 1 };
            }
            if (e.Type == EventType.Purchase)
            {
                arm = arm with { Revenue = arm.Revenue + e.Revenue };
            }
            Arms[(experiment, exposure.Arm)] = arm;
        }
    }

    /// <summary>The first profile identified as a customer holds their view; a later device is merged into it.</summary>
    private void Identify(string holder, string customer)
    {
        var target = _customer.TryGetValue(customer, out var known) ? Resolve(known) : null;
        if (target is null || target == holder)
        {
            _customer[customer] = holder;
            return;
        }
        var into = Of(_shown, target);
        foreach (var (slot, shown) in Of(_shown, holder))
        {
            if (!into.TryGetValue(slot, out var before) || before.At < shown.At)
            {
                into[slot] = shown;
            }
        }
        var exposures = Of(_exposed, target);
        foreach (var (experiment, exposure) in Of(_exposed, holder))
        {
            if (!exposures.TryGetValue(experiment, out var before) || before.At > exposure.At)
            {
                exposures[experiment] = exposure;
            }
        }
        if (_denied.Contains(holder))
        {
            _denied.Add(target); // privacy wins a merge
        }
        _shown.Remove(holder);
        _exposed.Remove(holder);
        _redirect[holder] = target;
    }

    private static Dictionary<string, T> Of<T>(Dictionary<string, Dictionary<string, T>> map, string key)
    {
        if (!map.TryGetValue(key, out var inner))
        {
            map[key] = inner = new(StringComparer.Ordinal);
        }
        return inner;
    }
}

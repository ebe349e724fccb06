using Personalizer.Engine.Events;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Experiments;

public sealed record SlotReportRow(string Variant, string Source, long Impressions, long Clicks, double Ctr, long Conversions, double Revenue);

public sealed record SlotReportEntry(string Slot, long Impressions, long Clicks, double Ctr, long Conversions, double Revenue, IReadOnlyList<SlotReportRow> Rows);

public sealed record SlotReportResult(long From, long To, double AttributionHours, IReadOnlyList<SlotReportEntry> Slots);

/// <summary>
/// What each slot showed and earned between two instants, read from the durable log. Impressions are
/// served decisions. A <c>slot_click</c> counts for the variant and source of the visitor's latest
/// impression of that slot. A purchase counts as a conversion (with its revenue) for every slot the
/// visitor was shown within <see cref="AttributionHours"/> before it, each with its latest variant and source.
/// Sources: each rule and experiment arm apart, then recommendations, trending, default, fallback.
/// </summary>
public sealed class SlotReport(IEventLog log)
{
    public const double AttributionHours = 24;

    public SlotReportResult Compute(string site, long from, long to)
    {
        var window = (long)(AttributionHours * 3_600_000);
        // Impressions reach the log off the request path, possibly after the visitor's next events:
        // read everything first, then match clicks and purchases to impressions by time.
        var shown = new Dictionary<string, List<(string Slot, string Variant, string Source, long At)>>(StringComparer.Ordinal);
        var actions = new List<TrackedEvent>();
        var rows = new Dictionary<(string Slot, string Variant, string Source), (long Impressions, long Clicks, long Conversions, double Revenue)>();
        foreach (var (_, record) in LogReader.Read(log))
        {
            if (record.Site != site)
            {
                continue;
            }
            if (record is ImpressionRecord impression)
            {
                if (!shown.TryGetValue(impression.VisitorId, out var list))
                {
                    shown[impression.VisitorId] = list = [];
                }
                foreach (var slot in impression.Slots)
                {
                    var key = (slot.SlotId, slot.Variant ?? "(items)", Source(slot.Source));
                    list.Add((key.SlotId, key.Item2, key.Item3, impression.At));
                    if (impression.At >= from && impression.At < to)
                    {
                        var row = rows.GetValueOrDefault(key);
                        rows[key] = row with { Impressions = row.Impressions + 1 };
                    }
                }
            }
            else if (record is EventBatchRecord batch)
            {
                actions.AddRange(batch.Events.Where(e => e.Timestamp >= from && e.Timestamp < to
                    && (e.Type == EventType.Purchase || (e.Type == EventType.SlotClick && e.SlotId is not null))));
            }
        }
        foreach (var e in actions)
        {
            if (!shown.TryGetValue(e.VisitorId, out var seen))
            {
                continue;
            }
            // The latest impression of each slot at or before the event (within the window for a purchase).
            var latest = new Dictionary<string, (string Variant, string Source, long At)>(StringComparer.Ordinal);
            foreach (var (slot, variant, source, at) in seen)
            {
                if (at <= e.Timestamp && (e.Type != EventType.SlotClick || slot == e.SlotId)
                    && (e.Type != EventType.Purchase || at >= e.Timestamp - window)
                    && (!latest.TryGetValue(slot, out var known) || known.At <= at))
                {
                    latest[slot] = (variant, source, at);
                }
            }
            foreach (var (slot, (variant, source, _)) in latest)
            {
                if (e.Type == EventType.SlotClick)
                {
                    var key = (slot, e.Variant ?? variant, source);
                    var row = rows.GetValueOrDefault(key);
                    rows[key] = row with { Clicks = row.Clicks + 1 };
                }
                else
                {
                    var key = (slot, variant, source);
                    var row = rows.GetValueOrDefault(key);
                    rows[key] = row with { Conversions = row.Conversions + 1, Revenue = row.Revenue + e.Revenue };
                }
            }
        }
        var slots = rows
            .GroupBy(kv => kv.Key.Slot, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var list = g.OrderBy(kv => kv.Key.Variant, StringComparer.Ordinal).ThenBy(kv => kv.Key.Source, StringComparer.Ordinal)
                    .Select(kv => new SlotReportRow(kv.Key.Variant, kv.Key.Source, kv.Value.Impressions, kv.Value.Clicks, Ctr(kv.Value.Clicks, kv.Value.Impressions), kv.Value.Conversions, kv.Value.Revenue))
                    .ToList();
                long impressions = list.Sum(r => r.Impressions), clicks = list.Sum(r => r.Clicks);
                return new SlotReportEntry(g.Key, impressions, clicks, Ctr(clicks, impressions), list.Sum(r => r.Conversions), list.Sum(r => r.Revenue), list);
            })
            .ToList();
        return new SlotReportResult(from, to, AttributionHours, slots);
    }

    private static double Ctr(long clicks, long impressions) => impressions == 0 ? 0 : (double)clicks / impressions;

    /// <summary>
    /// The source as reported: rules and experiment arms keep their identity (<c>rule:vip</c>,
    /// <c>experiment:hero/B</c>); a model's version is dropped (<c>recs:20261123…</c> → <c>recommendations</c>),
    /// so retraining does not split the rows.
    /// </summary>
    public static string Source(string source) =>
        source.StartsWith("recs:", StringComparison.Ordinal) ? "recommendations" : source;
}

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
/// Sources are grouped by kind: rule, experiment, recommendations, trending, default, fallback.
/// </summary>
public sealed class SlotReport(IEventLog log)
{
    public const double AttributionHours = 24;

    public SlotReportResult Compute(string site, long from, long to)
    {
        var window = (long)(AttributionHours * 3_600_000);
        var last = new Dictionary<(string Visitor, string Slot), (string Variant, string Source, long At)>();
        var rows = new Dictionary<(string Slot, string Variant, string Source), long[]>();
        var revenue = new Dictionary<(string Slot, string Variant, string Source), double>();
        long[] Row((string, string, string) key) => rows.TryGetValue(key, out var r) ? r : rows[key] = new long[3];
        foreach (var (_, record) in LogReader.Read(log))
        {
            if (record.Site != site)
            {
                continue;
            }
            if (record is ImpressionRecord impression)
            {
                foreach (var slot in impression.Slots)
                {
                    var value = (slot.Variant ?? "(items)", Kind(slot.Source), impression.At);
                    last[(impression.VisitorId, slot.SlotId)] = value;
                    if (impression.At >= from && impression.At < to)
                    {
                        Row((slot.SlotId, value.Item1, value.Item2))[0]++;
                    }
                }
            }
            else if (record is EventBatchRecord batch)
            {
                foreach (var e in batch.Events)
                {
                    if (e.Timestamp < from || e.Timestamp >= to)
                    {
                        continue;
                    }
                    if (e.Type == EventType.SlotClick && e.SlotId is not null && last.TryGetValue((e.VisitorId, e.SlotId), out var shown))
                    {
                        Row((e.SlotId, e.Variant ?? shown.Variant, shown.Source))[1]++;
                    }
                    else if (e.Type == EventType.Purchase)
                    {
                        foreach (var ((visitor, slot), seen) in last)
                        {
                            if (visitor == e.VisitorId && seen.At <= e.Timestamp && seen.At >= e.Timestamp - window)
                            {
                                var key = (slot, seen.Variant, seen.Source);
                                Row(key)[2]++;
                                revenue[key] = revenue.GetValueOrDefault(key) + e.Revenue;
                            }
                        }
                    }
                }
            }
        }
        var slots = rows
            .GroupBy(kv => kv.Key.Slot, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var list = g.OrderBy(kv => kv.Key.Variant, StringComparer.Ordinal).ThenBy(kv => kv.Key.Source, StringComparer.Ordinal)
                    .Select(kv => new SlotReportRow(kv.Key.Variant, kv.Key.Source, kv.Value[0], kv.Value[1], Ctr(kv.Value[1], kv.Value[0]), kv.Value[2], revenue.GetValueOrDefault(kv.Key)))
                    .ToList();
                long impressions = list.Sum(r => r.Impressions), clicks = list.Sum(r => r.Clicks);
                return new SlotReportEntry(g.Key, impressions, clicks, Ctr(clicks, impressions), list.Sum(r => r.Conversions), list.Sum(r => r.Revenue), list);
            })
            .ToList();
        return new SlotReportResult(from, to, AttributionHours, slots);
    }

    private static double Ctr(long clicks, long impressions) => impressions == 0 ? 0 : (double)clicks / impressions;

    /// <summary>"rule:vip" → rule; "experiment:x/B" → experiment; "recs:v3" → recommendations.</summary>
    public static string Kind(string source)
    {
        var colon = source.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? source : source[..colon];
        return kind == "recs" ? "recommendations" : kind;
    }
}

using System.Globalization;
using Personalizer.Engine.Counters;

namespace Personalizer.Engine.Experiments;

public enum ReportGranularity
{
    /// <summary>Totals over the range.</summary>
    Total,
    /// <summary>Totals and a series per UTC day.</summary>
    Day,
}

public sealed record SlotReportDay(string Date, long Impressions, long Clicks, long Conversions, double Revenue);

public sealed record SlotReportRow(string Variant, string Source, long Impressions, long Clicks, double Ctr, long Conversions, double Revenue, IReadOnlyList<SlotReportDay>? Days);

public sealed record SlotReportEntry(string Slot, long Impressions, long Clicks, double Ctr, long Conversions, double Revenue, IReadOnlyList<SlotReportRow> Rows, IReadOnlyList<SlotReportDay>? Days)
{
    /// <summary>With <c>by</c>: the rows per lifecycle stage or RFM segment of the visitors when shown (groups with impressions only).</summary>
    public IReadOnlyList<SlotReportGroup>? Groups { get; init; }
}

/// <summary>One slot's rows within one group of visitors.</summary>
public sealed record SlotReportGroup(string Group, long Impressions, long Clicks, double Ctr, long Conversions, double Revenue, IReadOnlyList<SlotReportRow> Rows);

public sealed record SlotReportResult(long From, long To, string Granularity, double AttributionHours, IReadOnlyList<SlotReportEntry> Slots);

/// <summary>
/// What each slot showed and earned over whole UTC days, read from the counters (see
/// <see cref="CounterAttribution"/> for what counts where): its cost is slots × days, whatever the age of the shop.
/// Sources: each rule and experiment arm apart, then recommendations, trending, default, fallback.
/// </summary>
public sealed class SlotReport(ICounterStore counters)
{
    public const long DayMs = CounterKeys.DayMs;

    /// <summary>The longest range one call may cover.</summary>
    public const int MaxDays = 3660;

    /// <summary>The days covering [<paramref name="from"/>, <paramref name="to"/>): from the day holding <c>from</c> to the day holding <c>to − 1 ms</c>.</summary>
    public static (long FirstDay, long LastDay) Days(long from, long to) => (CounterKeys.Day(from), CounterKeys.Day(Math.Max(from, to - 1)));

    public async Task<SlotReportResult> ComputeAsync(string site, long from, long to, ReportGranularity granularity, string? by = null, CancellationToken ct = default)
    {
        var (firstDay, lastDay) = Days(from, to);
        var index = (await counters.ReadAsync(site, [CounterKeys.SlotIndex], ct).ConfigureAwait(false))[0];
        var slots = index.Keys.Order(StringComparer.Ordinal).ToArray();
        var dayCount = (int)(lastDay - firstDay + 1);
        var keys = new string[slots.Length * dayCount];
        for (var s = 0; s < slots.Length; s++)
        {
            for (var d = 0; d < dayCount; d++)
            {
                keys[(s * dayCount) + d] = CounterKeys.Slot(slots[s], firstDay + d);
            }
        }
        var bags = await counters.ReadAsync(site, keys, ct).ConfigureAwait(false);
        var entries = new List<SlotReportEntry>(slots.Length);
        for (var s = 0; s < slots.Length; s++)
        {
            var rows = new SortedDictionary<(string Variant, string Source), Totals[]>(RowOrder.Instance);
            for (var d = 0; d < dayCount; d++)
            {
                foreach (var (field, value) in bags[(s * dayCount) + d])
                {
                    var second = field.LastIndexOf('|');
                    var first = field.LastIndexOf('|', second - 1);
                    if (first <= 0)
                    {
                        continue;
                    }
                    var key = (field[..first], field[(first + 1)..second]);
                    if (!rows.TryGetValue(key, out var days))
                    {
                        rows[key] = days = new Totals[dayCount];
                    }
                    days[d].Add(field.AsSpan(second + 1), value);
                }
            }
            if (rows.Count == 0)
            {
                continue;
            }
            var slotDays = new Totals[dayCount];
            var reportRows = new List<SlotReportRow>(rows.Count);
            foreach (var ((variant, source), days) in rows)
            {
                var total = default(Totals);
                for (var d = 0; d < dayCount; d++)
                {
                    total.Add(days[d]);
                    slotDays[d].Add(days[d]);
                }
                reportRows.Add(new SlotReportRow(variant, source, total.Impressions, total.Clicks, Ctr(total.Clicks, total.Impressions), total.Conversions,
                    Math.Round(total.Revenue, 2), granularity == ReportGranularity.Day ? Series(days, firstDay) : null));
            }
            var all = default(Totals);
            foreach (var day in slotDays)
            {
                all.Add(day);
            }
            entries.Add(new SlotReportEntry(slots[s], all.Impressions, all.Clicks, Ctr(all.Clicks, all.Impressions), all.Conversions, Math.Round(all.Revenue, 2),
                reportRows, granularity == ReportGranularity.Day ? Series(slotDays, firstDay) : null)
            {
                Groups = by is null ? null : await GroupsAsync(site, slots[s], firstDay, dayCount, by, ct).ConfigureAwait(false),
            });
        }
        return new SlotReportResult(firstDay * CounterKeys.DayMs, (lastDay + 1) * CounterKeys.DayMs,
            granularity == ReportGranularity.Day ? "day" : "total", CounterAttribution.AttributionHours, entries);
    }

    /// <summary>The groups of a dimension, in their documented order.</summary>
    public static string[] GroupsOf(string dimension) => dimension == CounterKeys.ByStage
        ? Crm.CustomerInsights.Stages
        : [.. Crm.CustomerInsights.Segments, CounterKeys.NoSegment];

    private async Task<List<SlotReportGroup>> GroupsAsync(string site, string slot, long firstDay, int dayCount, string dimension, CancellationToken ct)
    {
        var groups = GroupsOf(dimension);
        var keys = new string[groups.Length * dayCount];
        for (var g = 0; g < groups.Length; g++)
        {
            for (var d = 0; d < dayCount; d++)
            {
                keys[(g * dayCount) + d] = CounterKeys.By(CounterKeys.Slot(slot, firstDay + d), dimension, groups[g]);
            }
        }
        var bags = await counters.ReadAsync(site, keys, ct).ConfigureAwait(false);
        var result = new List<SlotReportGroup>();
        for (var g = 0; g < groups.Length; g++)
        {
            var rows = new SortedDictionary<(string Variant, string Source), Totals>(RowOrder.Instance);
            for (var d = 0; d < dayCount; d++)
            {
                foreach (var (field, value) in bags[(g * dayCount) + d])
                {
                    var second = field.LastIndexOf('|');
                    var first = second > 0 ? field.LastIndexOf('|', second - 1) : -1;
                    if (first <= 0)
                    {
                        continue;
                    }
                    var key = (field[..first], field[(first + 1)..second]);
                    var totals = rows.GetValueOrDefault(key);
                    totals.Add(field.AsSpan(second + 1), value);
                    rows[key] = totals;
                }
            }
            var all = default(Totals);
            var reportRows = new List<SlotReportRow>(rows.Count);
            foreach (var ((variant, source), t) in rows)
            {
                all.Add(t);
                reportRows.Add(new SlotReportRow(variant, source, t.Impressions, t.Clicks, Ctr(t.Clicks, t.Impressions), t.Conversions, Math.Round(t.Revenue, 2), null));
            }
            if (all.Impressions > 0 || all.Conversions > 0)
            {
                result.Add(new SlotReportGroup(groups[g], all.Impressions, all.Clicks, Ctr(all.Clicks, all.Impressions), all.Conversions, Math.Round(all.Revenue, 2), reportRows));
            }
        }
        return result;
    }

    private static SlotReportDay[] Series(Totals[] days, long firstDay)
    {
        var series = new SlotReportDay[days.Length];
        for (var d = 0; d < days.Length; d++)
        {
            var date = DateTimeOffset.FromUnixTimeMilliseconds((firstDay + d) * CounterKeys.DayMs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            series[d] = new SlotReportDay(date, days[d].Impressions, days[d].Clicks, days[d].Conversions, Math.Round(days[d].Revenue, 2));
        }
        return series;
    }

    private static double Ctr(long clicks, long impressions) => impressions == 0 ? 0 : (double)clicks / impressions;

    private struct Totals
    {
        public long Impressions;
        public long Clicks;
        public long Conversions;
        public double Revenue;

        public void Add(ReadOnlySpan<char> metric, double value)
        {
            switch (metric)
            {
                case CounterKeys.Impressions: Impressions += (long)value; break;
                case CounterKeys.Clicks: Clicks += (long)value; break;
                case CounterKeys.Conversions: Conversions += (long)value; break;
                case CounterKeys.Revenue: Revenue += value; break;
            }
        }

        public void Add(Totals other)
        {
            Impressions += other.Impressions;
            Clicks += other.Clicks;
            Conversions += other.Conversions;
            Revenue += other.Revenue;
        }
    }

    private sealed class RowOrder : IComparer<(string Variant, string Source)>
    {
        public static RowOrder Instance { get; } = new();

        public int Compare((string Variant, string Source) x, (string Variant, string Source) y)
        {
            var c = string.CompareOrdinal(x.Variant, y.Variant);
            return c != 0 ? c : string.CompareOrdinal(x.Source, y.Source);
        }
    }
}

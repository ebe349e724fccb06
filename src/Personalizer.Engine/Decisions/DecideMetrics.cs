using System.Diagnostics.Metrics;

namespace Personalizer.Engine.Decisions;

/// <summary>
/// The decide path's instruments, on the meter every Personalizer instrument shares (<see cref="MeterName"/>):
/// the whole call, each slot by slot and by the kind of source that answered, and fallbacks by reason.
/// Tags are few and bounded (site, slot ids, source kinds, reasons), and a record allocates nothing.
/// </summary>
public static class DecideMetrics
{
    public const string MeterName = "Personalizer";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Spans of a decide (the call, the profile read, each slot); created only while something listens.</summary>
    public static readonly System.Diagnostics.ActivitySource Traces = new(MeterName);

    private static readonly Histogram<double> Decide = Meter.CreateHistogram<double>(
        "personalizer.decide.duration", "ms", "Server time of one decide call, from the profile read to the last slot.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Pipeline.LedgerMetrics.LatencyBucketsMs });

    private static readonly Histogram<double> Slot = Meter.CreateHistogram<double>(
        "personalizer.decide.slot.duration", "ms", "Time of one slot's strategy chain, by slot and by the kind of source that answered.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Pipeline.LedgerMetrics.LatencyBucketsMs });

    private static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>(
        "personalizer.decide.fallbacks", "{slot}", "Slots answered by their fallback, by reason (timeout, error, store_unavailable).");

    internal static void Decided(string site, double ms) => Decide.Record(ms, new KeyValuePair<string, object?>("site", site));

    internal static void SlotDecided(string slot, string source, double ms) =>
        Slot.Record(ms, new KeyValuePair<string, object?>("slot", slot), new KeyValuePair<string, object?>("strategy", Kind(source)));

    internal static void FellBack(string reason) => Fallbacks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary><c>rule:vip</c> → <c>rule</c>, <c>experiment:hero/B</c> → <c>experiment</c>, <c>recs:v</c> → <c>recs</c>.</summary>
    private static string Kind(string source) =>
        source.StartsWith("rule:", StringComparison.Ordinal) ? "rule"
        : source.StartsWith("experiment:", StringComparison.Ordinal) ? "experiment"
        : source.StartsWith("recs:", StringComparison.Ordinal) ? "recs"
        : source.Contains(':', StringComparison.Ordinal) ? "other"
        : source; // default, trending, affinity, fallback …: a small fixed set
}

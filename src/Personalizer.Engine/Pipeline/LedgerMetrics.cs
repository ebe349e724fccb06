using System.Diagnostics.Metrics;

namespace Personalizer.Engine.Pipeline;

/// <summary>The durable log's instruments: group-commit latency, records applied by kind, and per ledger the backlog and the store's reachability.</summary>
internal sealed class LedgerMetrics : IDisposable
{
    public const string MeterName = "Personalizer";

    private static readonly Meter Shared = new(MeterName);

    /// <summary>
    /// Bucket bounds of the millisecond histograms (a commit; a decide and its slots), fine where the budgets are: the
    /// SDK's default bounds start at 5 ms, which put nearly every decide in the first bucket.
    /// </summary>
    public static readonly IReadOnlyList<double> LatencyBucketsMs = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 25, 50, 100, 250, 500, 1000, 2500];

    public static readonly Histogram<double> Commit = Shared.CreateHistogram<double>(
        "personalizer.log.commit.duration", "ms", "Time to make one group of records durable (one commit of the log).",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });

    public static readonly Counter<long> Applied = Shared.CreateCounter<long>(
        "personalizer.log.records.applied", "{record}", "Records applied, by record type.");

    public static readonly Counter<long> WriteRefusals = Shared.CreateCounter<long>(
        "personalizer.log.failures", "{failure}", "Times the log could not be made durable (a full or failing disk) and writes began to be refused.");

    private readonly Meter _meter = new(MeterName);

    public LedgerMetrics(Ledger ledger)
    {
        _meter.CreateObservableGauge("personalizer.log.backlog", () => ledger.Backlog, "{record}", "Records written to the log and not applied yet (the applier's lag).");
        _meter.CreateObservableGauge("personalizer.store.reachable", () => ledger.StoreDegraded ? 0 : 1, null, "1 while the store can be reached, 0 while records wait for it.");
        _meter.CreateObservableGauge("personalizer.log.writable", () => ledger.WritesRefused is null ? 1 : 0, null, "1 while the log takes writes, 0 while a full or failing disk refuses them.");
    }

    public void Dispose() => _meter.Dispose();
}

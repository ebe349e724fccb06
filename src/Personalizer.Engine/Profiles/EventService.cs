using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <param name="Queued">Durable in this node's log, applied when the profile store is reachable again.</param>
/// <param name="Dropped">Events of visitors who refused tracking: counted, never stored.</param>
public readonly record struct IngestResult(int Accepted, int Duplicates, int Queued, int Dropped);

/// <summary>Takes a batch of events: validated by the caller with <see cref="EventValidator"/>, then durable, then folded.</summary>
public sealed class EventService(Ledger ledger, ImpressionFeed impressions)
{
    /// <summary>Events per log record of an import.</summary>
    public const int ImportBatch = 500;

    /// <summary>
    /// Applies a history (any past timestamps, validated by the caller) in time order: sorted (stably) by
    /// timestamp, then written in records of <see cref="ImportBatch"/> events, several in flight so that
    /// group commits carry them. Idempotent by event id, like every event: imported twice, the second
    /// time is all duplicates. <paramref name="progress"/> hears the events applied so far.
    /// </summary>
    public async Task<IngestResult> ImportAsync(string site, List<TrackedEvent> events, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        var ordered = events.Select((e, i) => (e, i)).OrderBy(x => x.e.Timestamp).ThenBy(x => x.i).Select(x => x.e).ToArray();
        var inFlight = new Queue<Task<ApplyOutcome>>();
        int accepted = 0, duplicates = 0, queued = 0, dropped = 0, done = 0;
        void Add(ApplyOutcome outcome)
        {
            EventMetrics.Count(outcome);
            accepted += outcome.Applied;
            duplicates += outcome.Duplicates;
            queued += outcome.Queued;
            dropped += outcome.Dropped;
            done += outcome.Applied + outcome.Duplicates + outcome.Queued + outcome.Dropped;
            progress?.Report(done);
        }
        for (var start = 0; start < ordered.Length; start += ImportBatch)
        {
            var chunk = ordered[start..Math.Min(ordered.Length, start + ImportBatch)];
            inFlight.Enqueue(ledger.SubmitAsync(new EventBatchRecord(site, chunk), ct));
            if (inFlight.Count >= 16)
            {
                Add(await inFlight.Dequeue().ConfigureAwait(false));
            }
        }
        while (inFlight.Count > 0)
        {
            Add(await inFlight.Dequeue().ConfigureAwait(false));
        }
        return new IngestResult(accepted, duplicates, queued, dropped);
    }

    /// <summary>Completes once every event is committed to the log and folded into its profile (or, while the store is away, queued).</summary>
    public async Task<IngestResult> IngestAsync(string site, TrackedEvent[] events, CancellationToken ct = default)
    {
        impressions.SubmitQueued(); // what this visitor was shown before now is applied before what they did
        var outcome = await ledger.SubmitAsync(new EventBatchRecord(site, events), ct).ConfigureAwait(false);
        EventMetrics.Count(outcome);
        return new IngestResult(outcome.Applied, outcome.Duplicates, outcome.Queued, outcome.Dropped);
    }
}

/// <summary>Events taken in, by outcome: applied, duplicate, dropped (tracking refused), queued (the store away).</summary>
internal static class EventMetrics
{
    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Personalizer");

    private static readonly System.Diagnostics.Metrics.Counter<long> Events = Meter.CreateCounter<long>(
        "personalizer.events", "{event}", "Events taken in, by outcome (accepted, duplicate, dropped, queued).");

    public static void Count(ApplyOutcome outcome)
    {
        Add("accepted", outcome.Applied);
        Add("duplicate", outcome.Duplicates);
        Add("dropped", outcome.Dropped);
        Add("queued", outcome.Queued);
    }

    private static void Add(string outcome, int n)
    {
        if (n > 0)
        {
            Events.Add(n, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }
}

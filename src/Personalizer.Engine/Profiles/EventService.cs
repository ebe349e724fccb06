using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <param name="Queued">Durable in this node's log, applied when the profile store is reachable again.</param>
/// <param name="Dropped">Events of visitors who refused tracking: counted, never stored.</param>
public readonly record struct IngestResult(int Accepted, int Duplicates, int Queued, int Dropped);

/// <summary>Takes a batch of events: validated by the caller with <see cref="EventValidator"/>, then durable, then folded.</summary>
public sealed class EventService(Ledger ledger, ImpressionFeed impressions)
{
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

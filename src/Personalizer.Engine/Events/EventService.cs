using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Events;

public readonly record struct IngestResult(int Accepted, int Duplicates);

/// <summary>Takes a batch of events: validated by the caller with <see cref="EventValidator"/>, then durable, then folded.</summary>
public sealed class EventService(Ledger ledger)
{
    /// <summary>Completes once every event is committed to the log and folded into its profile.</summary>
    public async Task<IngestResult> IngestAsync(string site, TrackedEvent[] events, CancellationToken ct = default)
    {
        var outcome = await ledger.SubmitAsync(new EventBatchRecord(site, events), ct).ConfigureAwait(false);
        return new IngestResult(outcome.Applied, outcome.Duplicates);
    }
}

using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Storage;

/// <summary>
/// Where profiles and the small indexes beside them live. Implementations: FASTER (embedded, the
/// default). Every method is safe to call from any thread; the pipeline's applier is the only writer,
/// so a read-modify-write by it never races another write of the same node.
/// </summary>
public interface IProfileStore : IAsyncDisposable
{
    /// <summary>The stored record of a visitor, which may be a redirect stub left by a merge.</summary>
    ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default);

    ValueTask PutAsync(string site, VisitorProfile profile, CancellationToken ct = default);

    ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default);

    /// <summary>The log sequence number at which an event id was first applied, if it was.</summary>
    ValueTask<long?> GetEventSeqAsync(string site, string eventId, CancellationToken ct = default);

    ValueTask PutEventSeqAsync(string site, string eventId, long seq, CancellationToken ct = default);

    /// <summary>The visitor id whose profile holds a customer's single view.</summary>
    ValueTask<string?> GetCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default);

    ValueTask PutCustomerVisitorAsync(string site, string customerId, string visitorId, CancellationToken ct = default);

    ValueTask DeleteCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default);

    /// <summary>Returns to the latest checkpoint, if there is one, and gives back the marker stored with it.</summary>
    ValueTask<CheckpointMarker?> RecoverAsync(CancellationToken ct = default);

    /// <summary>
    /// Starts a checkpoint of every write completed before this call, together with <paramref name="marker"/>,
    /// before it returns; the task completes when the checkpoint is durable (true) or could not start
    /// because another is still running (false). Writes made meanwhile may or may not be included
    /// (replay is idempotent).
    /// </summary>
    Task<bool> CheckpointAsync(CheckpointMarker marker, bool full, CancellationToken ct = default);

    /// <summary>Approximate number of bytes the store holds in memory.</summary>
    long MemoryBytes { get; }
}

/// <summary>Where replay starts after a checkpoint: the log address and the last sequence number applied before it.</summary>
public sealed record CheckpointMarker(long ReplayFrom, long LastSeq);

using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// Where profiles and the small indexes beside them live. Implementations: FASTER (embedded, the
/// default) and Redis / Redis Cluster (shared by several nodes). Every method is safe to call from any
/// thread. Profile writes are optimistic: <see cref="PutAsync"/> succeeds only when the stored revision
/// is still the one the profile was read with, so concurrent writers (applier threads of several nodes)
/// never lose each other's updates; the loser re-reads and applies again.
/// tests/Personalizer.Engine.Tests/Storage/StoreContractTests.cs is the contract every store passes.
/// </summary>
public interface IProfileStore : ICheckpointStore, IAsyncDisposable
{
    /// <summary>True when several nodes write to this store (each with its own log and sequence numbers).</summary>
    bool IsShared { get; }

    /// <summary>False while the store cannot be reached (a remote store that lost its connection).</summary>
    bool IsReachable { get; }

    /// <summary>The stored record of a visitor, which may be a redirect stub left by a merge.</summary>
    ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default);

    /// <summary>
    /// Stores the profile if the stored revision equals <see cref="VisitorProfile.Revision"/> (0: no stored
    /// profile), and moves <see cref="VisitorProfile.Revision"/> on; otherwise throws <see cref="WriteConflictException"/>.
    /// With <paramref name="claims"/> (event ids of this same visitor), the write also claims them, atomically:
    /// when one of them is held by another record nothing is written and it is a conflict too. So a
    /// profile never holds an event whose claim is missing, nor the reverse, whichever node crashes when.
    /// </summary>
    ValueTask PutAsync(string site, VisitorProfile profile, EventClaims? claims = null, CancellationToken ct = default);

    ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default);

    /// <summary>The log record that applied a visitor's event, if one did (event ids are unique per visitor).</summary>
    ValueTask<EventClaim?> GetEventClaimAsync(string site, string visitorId, string eventId, CancellationToken ct = default);

    /// <summary>
    /// Claims a visitor's event id for the log record <paramref name="claim"/> on its own: true when the
    /// claim is new or is this same record's (a replay), false when another record holds it. Used where the
    /// event is folded into another visitor's profile (after a merge), which <see cref="PutAsync"/> cannot claim for.
    /// </summary>
    ValueTask<bool> ClaimEventAsync(string site, string visitorId, string eventId, EventClaim claim, CancellationToken ct = default);

    /// <summary>The visitor id whose profile holds a customer's single view.</summary>
    ValueTask<string?> GetCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default);

    ValueTask PutCustomerVisitorAsync(string site, string customerId, string visitorId, CancellationToken ct = default);

    ValueTask DeleteCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default);

    /// <summary>Approximate number of bytes the store holds in memory (0 when it lives elsewhere).</summary>
    long MemoryBytes { get; }

    /// <summary>
    /// Housekeeping between requests: reclaims the space of overwritten and deleted records, and drops
    /// event-id claims made before <paramref name="claimsBefore"/> (the dedupe window). Returns the bytes
    /// of log compacted (0 for a store that expires by itself, as Redis does with TTLs).
    /// </summary>
    ValueTask<long> CompactAsync(DateTimeOffset claimsBefore, CancellationToken ct = default) => ValueTask.FromResult(0L);

    /// <summary>
    /// For erasure: rewrites the whole stored log so that no byte of <paramref name="erased"/> (their profiles,
    /// event-id claims, customer index entries) stays behind in any file once two more checkpoints are taken.
    /// Holds the store for its duration (a maintenance operation). No-op for a store whose deletes are physical (Redis).
    /// </summary>
    ValueTask PurgeAsync(IReadOnlyCollection<(string Site, string Visitor)> erased, DateTimeOffset claimsBefore, CancellationToken ct = default) => ValueTask.CompletedTask;
}

/// <summary>The log record (node and sequence number) that first applied an event id.</summary>
public readonly record struct EventClaim(string Node, long Seq)
{
    /// <summary>"node:seq" (node ids have no colon).</summary>
    public override string ToString() => $"{Node}:{Seq}";

    public static EventClaim Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        return new EventClaim(text[..colon], long.Parse(text.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Event ids of the profile's own visitor, claimed by one log record together with the profile write.</summary>
public sealed record EventClaims(EventClaim Claim, IReadOnlyList<string> EventIds);

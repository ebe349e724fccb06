using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>Profiles loaded while one record is applied; written back once at its end.</summary>
internal sealed class ProfileWork(string site, EventClaim claim = default)
{
    public string Site { get; } = site;
    public EventClaim Claim { get; } = claim;
    /// <summary>Per visitor: the event ids to claim with the write of that visitor's own profile.</summary>
    private readonly Dictionary<string, List<string>> _claims = new(StringComparer.Ordinal);
    public Dictionary<string, VisitorProfile> Profiles { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string> Resolved { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Dirty { get; } = new(StringComparer.Ordinal);

    public void Replace(string key, VisitorProfile stub, string newHolder)
    {
        Profiles[key] = stub;
        Dirty.Add(key);
        foreach (var (visitor, resolved) in Resolved.ToArray())
        {
            if (resolved == key)
            {
                Resolved[visitor] = newHolder;
            }
        }
    }

    /// <summary>Visitor ids known to have no stored profile (read by <see cref="PrefetchAsync"/>).</summary>
    public HashSet<string> Absent { get; } = new(StringComparer.Ordinal);

    public async ValueTask PrefetchAsync(IProfileStore store, IEnumerable<string> visitors)
    {
        var reads = new Dictionary<string, ValueTask<VisitorProfile?>>(StringComparer.Ordinal);
        foreach (var visitor in visitors)
        {
            if (!reads.ContainsKey(visitor))
            {
#pragma warning disable CA2012 // started together, each awaited exactly once below
                reads[visitor] = store.GetAsync(Site, visitor);
#pragma warning restore CA2012
            }
        }
        foreach (var (visitor, read) in reads)
        {
            if (await read.ConfigureAwait(false) is { } profile)
            {
                Profiles[visitor] = profile;
            }
            else
            {
                Absent.Add(visitor);
            }
        }
    }

    public void ClaimWithWrite(string visitorId, string eventId)
    {
        if (!_claims.TryGetValue(visitorId, out var ids))
        {
            _claims[visitorId] = ids = [];
        }
        ids.Add(eventId);
    }

    public async ValueTask SaveAsync(IProfileStore store, ProfileProjection projection, long seq)
    {
        var writes = new List<ValueTask>(Dirty.Count);
        foreach (var key in Dirty)
        {
            var profile = Profiles[key];
            projection.MarkApplied(profile, seq);
            var claims = _claims.Remove(key, out var ids) ? new EventClaims(Claim, ids) : null;
#pragma warning disable CA2012 // started together, each awaited exactly once below
            writes.Add(store.PutAsync(Site, profile, claims));
#pragma warning restore CA2012
        }
        // All writes are sent before any is awaited; a conflict in one re-runs the record (the others stand, guarded by their applied sequence).
        Exception? failed = null;
        foreach (var write in writes)
        {
            try
            {
                await write.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                failed ??= ex;
            }
        }
        if (failed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        }
        // A visitor whose own profile was not written (not the case today) still gets its claims.
        foreach (var (visitor, ids) in _claims)
        {
            foreach (var eventId in ids)
            {
                await store.ClaimEventAsync(Site, visitor, eventId, Claim).ConfigureAwait(false);
            }
        }
    }
}

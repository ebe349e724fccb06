using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// Applies the profile records: event batches are folded into the visitors' profiles (identify merges
/// devices into the customer's profile), erasure and preferences change them, served decisions are
/// handed to the observers (counters). Exactly once: a profile keeps the last sequence number folded
/// into it (per node on a shared store), and event ids are claimed together with the profile write.
/// See Pipeline/README.md.
/// </summary>
public sealed class ProfileProjection : IProjection
{
    private readonly IProfileStore _store;
    private readonly CatalogStore _catalog;
    private readonly FoldSettings _fold;
    private readonly string _node;
    private readonly ProfileObserver[] _observers;

    public ProfileProjection(IProfileStore store, CatalogStore catalog, ProfileOptions options, LogNode node, IEnumerable<ProfileObserver> observers)
    {
        _store = store;
        _catalog = catalog;
        _fold = FoldSettings.From(options);
        _node = node.Id;
        _observers = [.. observers];
    }

    private ProjectionRegistry? _registry;

    public void Register(ProjectionRegistry registry)
    {
        _registry = registry;
        registry.Handle<EventBatchRecord>(ProfileRecordTags.Events, ApplyEventsAsync);
        registry.Handle<EraseProfileRecord>(ProfileRecordTags.Erase, EraseAsync);
        registry.Handle<PreferencesRecord>(ProfileRecordTags.Preferences, SetPreferencesAsync);
        registry.Handle<ImpressionBatchRecord>(ProfileRecordTags.Impressions, ApplyImpressionsAsync);
    }

    private async ValueTask<ApplyOutcome> ApplyEventsAsync(EventBatchRecord r, long seq)
    {
        var site = r.SiteId;
        var catalog = _catalog.Get(site);
        var work = new ProfileWork(site, new EventClaim(_node, seq));
        Begin(site, seq);
        var inRecord = new HashSet<string>(StringComparer.Ordinal);
        var outcome = new ApplyOutcome();
        List<TrackedEvent>? applied = null;
        // Every claim and profile the record touches is read at once: one round trip on a remote store.
        var claims = new ValueTask<EventClaim?>[r.Events.Length];
        for (var i = 0; i < claims.Length; i++)
        {
#pragma warning disable CA2012 // started together, each awaited exactly once below
            claims[i] = _store.GetEventClaimAsync(site, r.Events[i].VisitorId, r.Events[i].EventId);
#pragma warning restore CA2012
        }
        await work.PrefetchAsync(_store, r.Events.Select(e => e.VisitorId)).ConfigureAwait(false);
        for (var i = 0; i < r.Events.Length; i++)
        {
            var e = r.Events[i];
            var held = await claims[i].ConfigureAwait(false);
            if (!inRecord.Add(e.EventId))
            {
                outcome.Duplicates++;
                continue;
            }
            if (held is { } h && h != work.Claim)
            {
                outcome.Duplicates++;
                continue;
            }
            var profile = await LoadAsync(work, e.VisitorId).ConfigureAwait(false);
            if (profile.Preferences.Tracking == TrackingConsent.Denied)
            {
                outcome.Dropped++; // the visitor refused tracking: counted, never stored
                continue;
            }
            if (AppliedOf(profile) < seq)
            {
                if (profile.VisitorId == e.VisitorId)
                {
                    work.ClaimWithWrite(e.VisitorId, e.EventId);
                }
                else if (held is null && !await _store.ClaimEventAsync(site, e.VisitorId, e.EventId, work.Claim).ConfigureAwait(false))
                {
                    outcome.Duplicates++; // folded into a merged profile, whose write cannot carry this visitor's claim
                    continue;
                }
                if (e.Type == EventType.Identify)
                {
                    await IdentifyAsync(work, e, profile, seq).ConfigureAwait(false);
                }
                else
                {
                    foreach (var observer in _observers)
                    {
                        observer.Folding(site, e, profile);
                    }
                    ProfileFolder.Fold(profile, e, catalog, _fold);
                    work.Dirty.Add(profile.VisitorId);
                }
            }
            // else: replaying a record the store already holds for this profile (its claims were written with it)
            outcome.Applied++;
            (applied ??= []).Add(e);
        }
        await SaveAsync(work, seq).ConfigureAwait(false);
        // Only once the write stood: a conflict re-runs the record, which must not count twice; nor a repair.
        foreach (var e in _registry?.Repairing == true ? [] : applied ?? [])
        {
            if (work.Resolved.TryGetValue(e.VisitorId, out var holder))
            {
                foreach (var observer in _observers)
                {
                    observer.Applied(site, e, work.Profiles[holder], catalog);
                }
            }
        }
        return outcome;
    }

    private async ValueTask<ApplyOutcome> ApplyImpressionsAsync(ImpressionBatchRecord r, long seq)
    {
        var site = r.SiteId;
        var work = new ProfileWork(site);
        Begin(site, seq);
        var outcome = new ApplyOutcome();
        await work.PrefetchAsync(_store, r.Impressions.Select(i => i.VisitorId)).ConfigureAwait(false);
        foreach (var impression in r.Impressions)
        {
            var profile = await LoadAsync(work, impression.VisitorId).ConfigureAwait(false);
            if (profile.Preferences.Tracking == TrackingConsent.Denied)
            {
                outcome.Dropped++; // no impression, no counter for a visitor who refused tracking
                continue;
            }
            if (AppliedOf(profile) < seq)
            {
                foreach (var observer in _observers)
                {
                    observer.Showing(site, impression, profile);
                }
                work.Dirty.Add(profile.VisitorId);
            }
            outcome.Applied++;
        }
        await SaveAsync(work, seq).ConfigureAwait(false);
        return outcome;
    }

    private void Begin(string site, long seq)
    {
        foreach (var observer in _observers)
        {
            observer.Begin(site, seq);
        }
    }

    /// <summary>What the observers gathered first, then the profiles: a checkpoint that holds a profile's write holds the counters before it.</summary>
    private async ValueTask SaveAsync(ProfileWork work, long seq)
    {
        foreach (var observer in _observers)
        {
            await observer.FlushAsync(work.Site, seq).ConfigureAwait(false);
        }
        await work.SaveAsync(_store, this, seq).ConfigureAwait(false);
    }

    private void Forget(string site, string visitorId)
    {
        foreach (var observer in _observers)
        {
            observer.Forgotten(site, visitorId);
        }
    }

    private async ValueTask IdentifyAsync(ProfileWork work, TrackedEvent e, VisitorProfile current, long seq)
    {
        var customer = e.CustomerId!;
        var holder = await _store.GetCustomerVisitorAsync(work.Site, customer).ConfigureAwait(false);
        var target = holder is null || holder == current.VisitorId ? null : await LoadExistingAsync(work, holder).ConfigureAwait(false);
        if (target is null || target.VisitorId == current.VisitorId)
        {
            // First identification of this customer (or their profile was erased): this profile holds the view.
            current.CustomerId = customer;
            work.Dirty.Add(current.VisitorId);
            if (holder != current.VisitorId)
            {
                await _store.PutCustomerVisitorAsync(work.Site, customer, current.VisitorId).ConfigureAwait(false);
            }
            return;
        }

        // Another device of a known customer: fold this visitor into the customer's profile and leave a redirect.
        if (AppliedOf(target) < seq)
        {
            ProfileMerger.MergeInto(target, current, _fold);
            target.CustomerId = customer;
            work.Dirty.Add(target.VisitorId);
        }
        var stub = InPlaceOf(current);
        stub.MergedInto = target.VisitorId;
        work.Replace(current.VisitorId, stub, target.VisitorId);
    }

    private async ValueTask<ApplyOutcome> EraseAsync(EraseProfileRecord r, long seq)
    {
        Forget(r.SiteId, r.VisitorId);
        var work = new ProfileWork(r.SiteId);
        var stored = await _store.GetAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
        var profile = await LoadExistingAsync(work, r.VisitorId).ConfigureAwait(false);
        if (profile is null)
        {
            if (stored is not null)
            {
                await _store.DeleteAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
            }
            return new ApplyOutcome { Found = stored is not null };
        }
        if (AppliedOf(profile) >= seq)
        {
            return new ApplyOutcome { Found = true }; // a newer profile of the same id: the erasure already happened before it
        }
        // The visitor's part of per-visitor counters goes first (guarded by this record's sequence number, like
        // any counter write), then the profile: a checkpoint that holds the deletion holds the correction.
        Begin(r.SiteId, seq);
        foreach (var observer in _observers)
        {
            observer.Erasing(r.SiteId, profile);
        }
        foreach (var observer in _observers)
        {
            await observer.FlushAsync(r.SiteId, seq).ConfigureAwait(false);
        }
        await _store.DeleteAsync(r.SiteId, profile.VisitorId).ConfigureAwait(false);
        await _store.DeleteAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
        foreach (var merged in profile.MergedVisitorIds)
        {
            await _store.DeleteAsync(r.SiteId, merged).ConfigureAwait(false);
        }
        if (profile.CustomerId is { } customer &&
            await _store.GetCustomerVisitorAsync(r.SiteId, customer).ConfigureAwait(false) == profile.VisitorId)
        {
            await _store.DeleteCustomerVisitorAsync(r.SiteId, customer).ConfigureAwait(false);
        }
        return new ApplyOutcome { Found = true, Applied = 1 };
    }

    private async ValueTask<ApplyOutcome> SetPreferencesAsync(PreferencesRecord r, long seq)
    {
        var work = new ProfileWork(r.SiteId);
        Begin(r.SiteId, seq); // its save flushes the observers: nothing an abandoned record gathered may go with it
        var profile = await LoadAsync(work, r.VisitorId).ConfigureAwait(false);
        if (AppliedOf(profile) < seq)
        {
            if (r.Preferences.Tracking == TrackingConsent.Denied && profile.Preferences.Tracking != TrackingConsent.Denied)
            {
                Forget(r.SiteId, profile.VisitorId);
                // Tracking refused: the stored behaviour goes; who the visitor is and what they chose stays.
                var erased = InPlaceOf(profile);
                erased.CustomerId = profile.CustomerId;
                erased.MergedVisitorIds = profile.MergedVisitorIds;
                work.Profiles[profile.VisitorId] = erased;
                profile = erased;
            }
            profile.Preferences = r.Preferences;
            work.Dirty.Add(profile.VisitorId);
            await SaveAsync(work, seq).ConfigureAwait(false);
        }
        return new ApplyOutcome { Applied = 1, Found = true };
    }

    /// <summary>
    /// An empty profile taking the stored one's place under the same key: it keeps the store's revision
    /// (the write is checked against it) and the applied sequence numbers (replay stays exactly-once).
    /// </summary>
    private static VisitorProfile InPlaceOf(VisitorProfile stored) => new()
    {
        VisitorId = stored.VisitorId,
        Revision = stored.Revision,
        AppliedSeq = stored.AppliedSeq,
        AppliedByNode = stored.AppliedByNode,
    };

    /// <summary>The last of this node's records folded into the profile (exactly-once replay).</summary>
    private long AppliedOf(VisitorProfile profile) =>
        _node.Length == 0 ? profile.AppliedSeq
        : profile.AppliedByNode is { } byNode && byNode.TryGetValue(_node, out var seq) ? seq : 0;

    internal void MarkApplied(VisitorProfile profile, long seq)
    {
        if (_node.Length == 0)
        {
            profile.AppliedSeq = seq;
        }
        else
        {
            (profile.AppliedByNode ??= new(StringComparer.Ordinal))[_node] = seq;
        }
    }

    /// <summary>The profile that holds this visitor's view (following merge redirects), or a new one.</summary>
    private async ValueTask<VisitorProfile> LoadAsync(ProfileWork work, string visitorId)
    {
        if (await LoadExistingAsync(work, visitorId).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }
        var created = new VisitorProfile { VisitorId = visitorId };
        work.Profiles[visitorId] = created;
        work.Resolved[visitorId] = visitorId;
        return created;
    }

    private async ValueTask<VisitorProfile?> LoadExistingAsync(ProfileWork work, string visitorId)
    {
        if (work.Resolved.TryGetValue(visitorId, out var key))
        {
            return work.Profiles[key];
        }
        var id = visitorId;
        VisitorProfile? last = null;
        for (var hop = 0; hop < 8; hop++)
        {
            if (work.Profiles.TryGetValue(id, out var cached))
            {
                if (!cached.IsRedirect)
                {
                    work.Resolved[visitorId] = id;
                    return cached;
                }
                last = cached;
                id = cached.MergedInto!;
                continue;
            }
            var stored = work.Absent.Contains(id) ? null : await _store.GetAsync(work.Site, id).ConfigureAwait(false);
            if (stored is null)
            {
                break;
            }
            work.Profiles[id] = stored;
            if (!stored.IsRedirect)
            {
                work.Resolved[visitorId] = id;
                return stored;
            }
            last = stored;
            id = stored.MergedInto!;
        }
        // A redirect to a profile that was erased: the visitor starts afresh under their own id.
        if (last is not null)
        {
            var fresh = InPlaceOf(work.Profiles[visitorId]);
            work.Profiles[visitorId] = fresh;
            work.Resolved[visitorId] = visitorId;
            work.Dirty.Add(visitorId);
            return fresh;
        }
        return null;
    }
}

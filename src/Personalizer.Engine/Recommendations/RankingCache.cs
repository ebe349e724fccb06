using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// The last personalized ranking of recent visitors, so a visitor who asks again with nothing new in their
/// item history (a page reload, a category page, the next slot of the same decide) is not scored again.
/// Valid for one model (by reference, so a new model misses), one item history (<see cref="Stamp"/>: every
/// item touched with its counts; an impression or a consent change is no part of it) and one purchase mask.
/// A ranking holds exact scores in order; the slot's filters apply afresh to it on every decide, so stock,
/// cart and rules need no part in the key.
/// <para>
/// Direct-mapped: a visitor's place is a hash of site and id; a newer ranking takes the place of whatever
/// was there. Entries are immutable and published by reference, so readers take no lock.
/// </para>
/// </summary>
public sealed class RankingCache : ProfileObserver
{
    private readonly Entry?[] _entries;
    private readonly int _mask;
    private long _hits;
    private long _misses;

    public RankingCache(RecommendationOptions options)
    {
        var size = options.RankingCacheEntries <= 0 ? 0 : (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)options.RankingCacheEntries);
        _entries = new Entry?[size];
        _mask = size - 1;
    }

    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>A cached ranking: item indexes of <see cref="Model"/>, best first, with their exact scores.</summary>
    public sealed class Entry(string site, string visitorId, RecommendationModel model, ulong stamp, bool excludePurchased, int[] top, float[] scores)
    {
        public string Site { get; } = site;
        public string VisitorId { get; } = visitorId;
        public RecommendationModel Model { get; } = model;
        public ulong Stamp { get; } = stamp;
        public bool ExcludePurchased { get; } = excludePurchased;
        public int[] Top { get; } = top;
        public float[] Scores { get; } = scores;
    }

    /// <summary>The visitor's ranking of at least <paramref name="want"/> places, if one is kept for this model and history.</summary>
    public Entry? Find(string site, string visitorId, RecommendationModel model, ulong stamp, bool excludePurchased, int want)
    {
        if (_entries.Length == 0)
        {
            return null;
        }
        var entry = Volatile.Read(ref _entries[Place(site, visitorId)]);
        if (entry is not null && ReferenceEquals(entry.Model, model) && entry.Stamp == stamp && entry.ExcludePurchased == excludePurchased
            && entry.Top.Length >= want && string.Equals(entry.VisitorId, visitorId, StringComparison.Ordinal) && string.Equals(entry.Site, site, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _hits);
            return entry;
        }
        Interlocked.Increment(ref _misses);
        return null;
    }

    public void Keep(Entry entry)
    {
        if (_entries.Length > 0)
        {
            Volatile.Write(ref _entries[Place(entry.Site, entry.VisitorId)], entry);
        }
    }

    /// <summary>An erased visitor's ranking goes with their history.</summary>
    public override void Forgotten(string site, string visitorId) => Forget(site, visitorId);

    /// <summary>Forgets a visitor's ranking.</summary>
    public void Forget(string site, string visitorId)
    {
        if (_entries.Length == 0)
        {
            return;
        }
        ref var place = ref _entries[Place(site, visitorId)];
        if (Volatile.Read(ref place) is { } entry && entry.VisitorId == visitorId && entry.Site == site)
        {
            Interlocked.CompareExchange(ref place, null, entry);
        }
    }

    private int Place(string site, string visitorId) =>
        HashCode.Combine(string.GetHashCode(site, StringComparison.Ordinal), string.GetHashCode(visitorId, StringComparison.Ordinal)) & _mask;

    /// <summary>
    /// A 64-bit fingerprint (FNV-1a) of what the visitor's ranking is made of: every item of their history with its
    /// counts. Zero for a profile without the item history (those are not cached).
    /// </summary>
    public static ulong Stamp(VisitorProfile profile)
    {
        if (profile.Items.Count == 0)
        {
            return 0;
        }
        var hash = 14695981039346656037UL;
        foreach (var t in profile.Items)
        {
            foreach (var c in t.ItemId)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }
            hash = (hash ^ (uint)t.Views) * 1099511628211UL;
            hash = (hash ^ (uint)t.Clicks) * 1099511628211UL;
            hash = (hash ^ (uint)t.Carts) * 1099511628211UL;
            hash = (hash ^ (uint)t.Purchases) * 1099511628211UL;
        }
        return hash == 0 ? 1 : hash;
    }
}

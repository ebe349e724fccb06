using System.Collections.Concurrent;
using MessagePack;
using Personalizer.Engine.Events;

namespace Personalizer.Engine.Recommendations;

/// <summary>An item of a ranking; <paramref name="Item"/> when the ranking already knows it in the decide's catalogue snapshot.</summary>
public readonly record struct ScoredItem(string ItemId, double Score, Catalog.CatalogItem? Item = null);

/// <summary>
/// Time-decayed popularity per site. Each interaction adds w·2^((t−T0)/h) to its item, so ranking by the
/// stored sum equals ranking by Σ w·2^(−(now−t)/h) for every "now"; T0 moves forward (and the sums are
/// rescaled) before the exponent grows large. Written by the pipeline's applier; readers see an immutable
/// ranked list republished at most every <see cref="PublishInterval"/>.
/// </summary>
public sealed class TrendingTracker(TimeProvider time, double halfLifeHours)
{
    public static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(250);
    private const int RankedLength = 500;

    private readonly double _halfLifeMs = halfLifeHours * 3_600_000d;
    private readonly ConcurrentDictionary<string, SiteTrending> _sites = new(StringComparer.Ordinal);

    /// <summary>The ranked list, best first, scores scaled to (0, 1].</summary>
    public ScoredItem[] Top(string site) => _sites.TryGetValue(site, out var s) ? s.Ranked : [];

    public static double Weight(EventType type) => type switch
    {
        EventType.ProductView => 1,
        EventType.SlotClick => 1,
        EventType.AddToCart => 3,
        EventType.Purchase => 5,
        _ => 0,
    };

    internal void Record(string site, string itemId, double weight, long timestampMs)
    {
        if (weight <= 0)
        {
            return;
        }
        var s = _sites.GetOrAdd(site, static _ => new SiteTrending());
        if (s.Origin == 0)
        {
            s.Origin = timestampMs;
        }
        var exponent = (timestampMs - s.Origin) / _halfLifeMs;
        if (exponent > 40)
        {
            s.Rebase(timestampMs, _halfLifeMs);
            exponent = 0;
        }
        s.Scores.TryGetValue(itemId, out var current);
        s.Scores[itemId] = current + weight * Math.Pow(2, exponent);
        s.Dirty = true;
    }

    /// <summary>Republishes the ranked lists that changed, if the last publication is old enough (or when forced).</summary>
    internal void Publish(bool force = false)
    {
        var now = time.GetTimestamp();
        foreach (var s in _sites.Values)
        {
            if (s.Dirty && (force || time.GetElapsedTime(s.PublishedAt, now) >= PublishInterval))
            {
                s.Ranked = Rank(s.Scores);
                s.Dirty = false;
                s.PublishedAt = now;
            }
        }
    }

    private static ScoredItem[] Rank(Dictionary<string, double> scores)
    {
        var all = new ScoredItem[scores.Count];
        var i = 0;
        foreach (var (id, score) in scores)
        {
            all[i++] = new ScoredItem(id, score);
        }
        Array.Sort(all, static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.ItemId, b.ItemId));
        var n = Math.Min(all.Length, RankedLength);
        var max = n > 0 ? all[0].Score : 1;
        var ranked = new ScoredItem[n];
        for (var k = 0; k < n; k++)
        {
            ranked[k] = new ScoredItem(all[k].ItemId, Math.Round(all[k].Score / max, 4));
        }
        return ranked;
    }

    internal Dictionary<string, StoredTrending> Snapshot() =>
        _sites.ToDictionary(kv => kv.Key, kv => new StoredTrending { Origin = kv.Value.Origin, Scores = new(kv.Value.Scores) }, StringComparer.Ordinal);

    internal void Restore(Dictionary<string, StoredTrending> snapshot)
    {
        _sites.Clear();
        foreach (var (site, stored) in snapshot)
        {
            _sites[site] = new SiteTrending { Origin = stored.Origin, Scores = new(stored.Scores, StringComparer.Ordinal), Dirty = true };
        }
        Publish(force: true);
    }

    private sealed class SiteTrending
    {
        public long Origin;
        public Dictionary<string, double> Scores = new(StringComparer.Ordinal);
        public volatile ScoredItem[] Ranked = [];
        public bool Dirty;
        public long PublishedAt;

        public void Rebase(long newOrigin, double halfLifeMs)
        {
            var factor = Math.Pow(2, -(newOrigin - Origin) / halfLifeMs);
            foreach (var key in Scores.Keys.ToArray())
            {
                var v = Scores[key] * factor;
                if (v < 1e-9)
                {
                    Scores.Remove(key);
                }
                else
                {
                    Scores[key] = v;
                }
            }
            Origin = newOrigin;
        }
    }
}

[MessagePackObject]
public sealed class StoredTrending
{
    [Key(0)] public long Origin { get; set; }
    [Key(1)] public Dictionary<string, double> Scores { get; set; } = [];
}

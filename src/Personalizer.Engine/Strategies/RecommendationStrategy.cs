using System.Buffers;
using System.Numerics.Tensors;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Engine.Strategies;

/// <summary>
/// Recommendation slots that ask for <c>personalized</c>, <c>similar</c>, <c>bought_together</c> or
/// <c>recently_viewed</c>. Personalized lists fold the visitor's current interactions (recently
/// viewed, cart, purchases) into a user vector at request time — the ALS user step against the
/// model's item factors — so the next decide after an event already reflects it. A visitor with
/// nothing to fold in gets trending items of their top category (cold start). Every list passes
/// the slot's filters and the visitor's exclusions, and is topped up from trending when short.
/// </summary>
internal sealed class RecommendationStrategy(ModelRegistry models, TrendingTracker trending, RecommendationOptions options, RankingCache cache) : ISlotStrategy
{
    /// <summary>Page attribute naming the item a "similar" or "bought together" list is about.</summary>
    public const string ItemAttribute = RecommendationStrategyNames.ItemAttribute;

    public string Name => "recommendations";
    public int Order => StrategyOrder.Recommendations;
    public bool AppliesTo(SlotDefinition slot) => slot.Kind == SlotKind.Recommendations && slot.Strategy != RecommendationStrategies.Trending;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct) =>
        ValueTask.FromResult(Build(context, slot, boost: context.Boost));

    /// <summary>
    /// The slot's list by its strategy; items of <paramref name="boost"/> categories move ahead
    /// (keeping their order among themselves). Null when the strategy has nothing to say.
    /// </summary>
    public SlotDecision? Build(DecisionContext context, SlotDefinition slot, string[] boost)
    {
        var model = models.Current(context.Site);
        return slot.Strategy switch
        {
            RecommendationStrategies.Personalized => Personalized(context, slot, model, boost),
            RecommendationStrategies.Similar => FromNeighbours(context, slot, model, Anchor(context, fromCart: false), together: false, boost),
            RecommendationStrategies.BoughtTogether => FromNeighbours(context, slot, model, Anchor(context, fromCart: true), together: true, boost)
                ?? FromNeighbours(context, slot, model, Anchor(context, fromCart: true), together: false, boost),
            RecommendationStrategies.RecentlyViewed => RecentlyViewed(context, slot, boost),
            _ => null,
        };
    }

    /// <summary>
    /// Boosted categories first, each part in its own order. The boosted part is not limited to the
    /// ranking's top: items of the boosted categories the ranking did not reach follow the ranked
    /// ones from the whole catalogue (catalogue order), so a boosted category always appears.
    /// </summary>
    internal static ScoredItem[] Boost(ScoredItem[] ranked, DecisionContext context, string[]? boost, Rules.CompiledCondition? boostItems = null)
    {
        if (boost is not { Length: > 0 } && boostItems is null)
        {
            return ranked;
        }
        bool InBoost(CatalogItem? item) => item is not null
            && ((boost is { Length: > 0 } && item.Categories.Any(boost.Contains)) || (boostItems is not null && context.Conditions.Holds(boostItems, item)));
        var listed = new HashSet<string>(ranked.Select(r => r.ItemId), StringComparer.Ordinal);
        var drawn = context.Catalog.All.Where(i => InBoost(i) && !listed.Contains(i.Id)).Select(i => new ScoredItem(i.Id, 0));
        return [.. ranked.Where(s => InBoost(s.Item ?? context.Catalog.Find(s.ItemId))), .. drawn, .. ranked.Where(s => !InBoost(s.Item ?? context.Catalog.Find(s.ItemId)))];
    }

    private SlotDecision? Personalized(DecisionContext context, SlotDefinition slot, RecommendationModel? model, string[] boost)
    {
        var profile = context.Profile;
        if (model is null || profile is null)
        {
            return ColdStart(context, slot, boost);
        }
        // A ranking kept from the visitor's last ask, when nothing of it has changed (declared interests need the scores).
        var excludePurchased = slot.Filters.ExcludesPurchased;
        var stamp = slot.Filters.IsNarrowing || profile.Preferences.Interests.Count > 0 ? 0 : RankingCache.Stamp(profile);
        if (stamp != 0 && cache.Find(context.Site, context.VisitorId, model, stamp, excludePurchased, PersonalizedScoring.Wanted(model, profile, slot.Count)) is { } kept
            && FromRanking(context, slot, model, kept.Top, kept.Scores, boost) is { } answer)
        {
            return answer;
        }
        var f = model.Factors;
        Span<float> user = f <= 256 ? stackalloc float[f] : new float[f];
        if (!PersonalizedScoring.UserVector(model, profile, options.Weights, user))
        {
            return ColdStart(context, slot, boost);
        }
        var items = model.ItemIds.Length;
        var scores = ArrayPool<float>.Shared.Rent(items);
        var top = ArrayPool<int>.Shared.Rent(items);
        try
        {
            // Narrowing filters (categories, brands, tags, price) may keep little of the top: rank everything then, exactly.
            var whole = slot.Filters.IsNarrowing;
            var want = whole ? items : PersonalizedScoring.Wanted(model, profile, slot.Count);
            while (true)
            {
                int found;
                if (whole)
                {
                    PersonalizedScoring.ScoreAll(model, profile, user, excludePurchased, scores.AsSpan(0, items));
                    found = TopK.Select(scores.AsSpan(0, items), top.AsSpan(0, want));
                }
                else
                {
                    found = PersonalizedScoring.Rank(model, profile, user, excludePurchased, scores.AsSpan(0, items), top.AsSpan(0, want));
                }
                var inOrder = new float[found];
                for (var k = 0; k < found; k++)
                {
                    inOrder[k] = scores[top[k]];
                }
                if (stamp != 0 && !whole)
                {
                    cache.Keep(new RankingCache.Entry(context.Site, context.VisitorId, model, stamp, excludePurchased, top.AsSpan(0, found).ToArray(), inOrder));
                }
                var ranked = Ranked(context, model, top.AsSpan(0, found), inOrder);
                ranked = Interests(context, model, user, scores.AsSpan(0, items), ranked, slot.Count);
                var listed = RecommendationFilter.Apply(Boost(ranked, context, boost, slot.Filters.BoostItems), context, slot);
                if (listed.Count < slot.Count && !whole && found == want && want < items)
                {
                    // The filters took more than the reserve (a limit per category, stock …): four times as much of the
                    // ranking, and past an eighth of the catalogue the whole of it, exactly.
                    want *= 4;
                    whole = want >= items / 8;
                    want = whole ? items : want;
                    continue;
                }
                return Finish(context, slot, listed, model.Source, reason: null);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(top);
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    /// <summary>
    /// The list from a kept ranking (item indexes best first, with exact scores); null when the slot's filters leave
    /// it short and more of the ranking could fill it, so the caller ranks afresh and deeper.
    /// </summary>
    private SlotDecision? FromRanking(DecisionContext context, SlotDefinition slot, RecommendationModel model, int[] top, float[] scores, string[] boost)
    {
        var listed = RecommendationFilter.Apply(Boost(Ranked(context, model, top, scores), context, boost, slot.Filters.BoostItems), context, slot);
        return listed.Count < slot.Count ? null : Finish(context, slot, listed, model.Source, reason: null);
    }

    /// <summary>A ranking's items (model indexes, best first, with their scores in the same order), each with its catalogue item.</summary>
    private static ScoredItem[] Ranked(DecisionContext context, RecommendationModel model, ReadOnlySpan<int> top, ReadOnlySpan<float> scores)
    {
        var inCatalog = model.ItemsIn(context.Catalog);
        var ranked = new ScoredItem[top.Length];
        for (var k = 0; k < top.Length; k++)
        {
            ranked[k] = new ScoredItem(model.ItemIds[top[k]], Math.Round(scores[k], 4), inCatalog[top[k]]);
        }
        return ranked;
    }

    /// <summary>
    /// Declared interests (preference centre) as a soft boost: the best-scored items of those
    /// categories take every third place of the list (from the second), the rest keeps the model's
    /// order, so interests show without replacing what the visitor did.
    /// </summary>
    private static ScoredItem[] Interests(DecisionContext context, RecommendationModel model, ReadOnlySpan<float> user, ReadOnlySpan<float> scores, ScoredItem[] ranked, int count)
    {
        var interests = context.Profile?.Preferences.Interests;
        if (interests is not { Count: > 0 })
        {
            return ranked;
        }
        var masked = ArrayPool<float>.Shared.Rent(scores.Length);
        var inCatalog = model.ItemsIn(context.Catalog);
        try
        {
            for (var i = 0; i < scores.Length; i++)
            {
                masked[i] = inCatalog[i] is { } item && InAny(item.Categories, interests) ? scores[i] : float.NegativeInfinity;
            }
            var picks = new int[Math.Max(1, count / 3) + 5];
            var found = TopK.Select(masked.AsSpan(0, scores.Length), picks);
            var queue = new Queue<ScoredItem>(found);
            for (var k = 0; k < found; k++)
            {
                queue.Enqueue(new ScoredItem(model.ItemIds[picks[k]], Math.Round(model.Serving.Score(user, picks[k]), 4)));
            }
            var listed = new HashSet<string>(StringComparer.Ordinal);
            var result = new List<ScoredItem>(ranked.Length + found);
            var next = 0;
            while (next < ranked.Length || queue.Count > 0)
            {
                var fromInterests = result.Count % 3 == 1 && queue.Count > 0;
                var candidate = fromInterests || next >= ranked.Length ? queue.Dequeue() : ranked[next++];
                if (listed.Add(candidate.ItemId))
                {
                    result.Add(candidate);
                }
            }
            return [.. result];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(masked);
        }
    }

    private static bool InAny(string[] categories, List<string> set)
    {
        foreach (var c in categories)
        {
            foreach (var s in set)
            {
                if (string.Equals(c, s, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// Nobody to fold in: the site's trending items of the visitor's top category, else of the first
    /// interest they declared, if any.
    /// </summary>
    private SlotDecision? ColdStart(DecisionContext context, SlotDefinition slot, string[] boost)
    {
        var category = context.Conditions.TopCategory;
        if (category.Length == 0 && context.Profile?.Preferences.Interests is { Count: > 0 } interests)
        {
            category = interests[0];
        }
        if (category.Length == 0)
        {
            return null; // the trending strategy answers
        }
        var inCategory = trending.Top(context.Site).Where(s => context.Catalog.Find(s.ItemId)?.Categories.Contains(category) == true).ToArray();
        var items = RecommendationFilter.Apply(Boost(inCategory, context, boost, slot.Filters.BoostItems), context, slot);
        return Finish(context, slot, items, StrategyNames.Trending, reason: "cold_start");
    }

    private SlotDecision? FromNeighbours(DecisionContext context, SlotDefinition slot, RecommendationModel? model, string? anchor, bool together, string[] boost)
    {
        if (model is null || anchor is null || !model.ItemIndex.TryGetValue(anchor, out var index))
        {
            return null;
        }
        var neighbours = together ? model.BoughtTogether[index] : model.Similar[index];
        var scores = together ? model.BoughtTogetherLift[index] : model.SimilarScores[index];
        if (neighbours.Length == 0)
        {
            return null;
        }
        var ranked = new ScoredItem[neighbours.Length];
        for (var k = 0; k < ranked.Length; k++)
        {
            ranked[k] = new ScoredItem(model.ItemIds[neighbours[k]], Math.Round(scores[k], 4));
        }
        var anchorItem = context.Catalog.Find(anchor);
        var items = RecommendationFilter.Apply(Boost(ranked, context, boost, slot.Filters.BoostItems), context, slot);
        items.RemoveAll(i => ReferenceEquals(i.Item, anchorItem));
        return Finish(context, slot, items, model.Source, reason: null);
    }

    private static SlotDecision? RecentlyViewed(DecisionContext context, SlotDefinition slot, string[] boost)
    {
        if (context.Profile is not { RecentlyViewed.Count: > 0 } profile)
        {
            return null;
        }
        var ranked = profile.RecentlyViewed.Select((v, k) => new ScoredItem(v.ItemId, 1.0 / (k + 1))).ToArray();
        var items = RecommendationFilter.Apply(Boost(ranked, context, boost, slot.Filters.BoostItems), context, slot);
        return items.Count == 0 ? null : new SlotDecision { SlotId = slot.Id, Items = items, Source = RecommendationStrategies.RecentlyViewed };
    }

    private SlotDecision? Finish(DecisionContext context, SlotDefinition slot, List<RecommendedItem> items, string source, string? reason)
    {
        if (items.Count == 0)
        {
            return null;
        }
        if (items.Count < slot.Count)
        {
            // Top up from trending, never leaving the slot short.
            items.AddRange(RecommendationFilter.Apply(trending.Top(context.Site), context, slot, slot.Count - items.Count)
                .Where(t => !items.Any(i => ReferenceEquals(i.Item, t.Item))));
            RecommendationFilter.FillFromCatalog(items, context, slot);
        }
        return new SlotDecision { SlotId = slot.Id, Items = items, Source = source, Reason = reason };
    }

    private static string? Anchor(DecisionContext context, bool fromCart)
    {
        if (context.Request.Attributes?.TryGetValue(ItemAttribute, out var item) == true)
        {
            return item;
        }
        var profile = context.Profile;
        if (fromCart && profile is { Cart.Count: > 0 })
        {
            return profile.Cart[^1].ItemId;
        }
        return profile is { RecentlyViewed.Count: > 0 } ? profile.RecentlyViewed[0].ItemId : null;
    }
}

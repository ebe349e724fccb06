using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Engine.Strategies;

/// <summary>
/// Walks ranked candidates and keeps those that pass the slot's filters and the visitor's own
/// exclusions, up to the slot's count. Every recommendation strategy ends here, so no filter can be
/// forgotten by one of them.
/// </summary>
public static class RecommendationFilter
{
    public static List<RecommendedItem> Apply(ReadOnlySpan<ScoredItem> ranked, DecisionContext context, SlotDefinition slot, int? count = null)
    {
        var want = count ?? slot.Count;
        var result = new List<RecommendedItem>(want);
        var limit = slot.Filters.PerCategoryLimit;
        var perCategory = limit > 0 ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
        foreach (var candidate in ranked)
        {
            if (result.Count >= want)
            {
                break;
            }
            var item = candidate.Item ?? context.Catalog.Find(candidate.ItemId);
            if (item is null)
            {
                continue;
            }
            if (Rejection(item, context.Profile, slot.Filters, result, context.Conditions) is { } reason)
            {
                Explain(context, item, reason);
                continue;
            }
            if (perCategory is not null && item.PrimaryCategory is { } category)
            {
                perCategory.TryGetValue(category, out var n);
                if (n >= limit)
                {
                    Explain(context, item, $"already {n} items of {category} (at most {limit})");
                    continue;
                }
                perCategory[category] = n + 1;
            }
            result.Add(new RecommendedItem(item, candidate.Score));
        }
        return result;
    }

    /// <summary>Fills up from the catalogue (stable order) so that a recommendations slot never comes back empty.</summary>
    public static void FillFromCatalog(List<RecommendedItem> items, DecisionContext context, SlotDefinition slot)
    {
        var max = slot.Filters.PerCategoryLimit;
        foreach (var item in context.Catalog.All)
        {
            if (items.Count >= slot.Count)
            {
                return;
            }
            if (Passes(item, context.Profile, slot.Filters, items, context.Conditions) && (max <= 0 || CountIn(items, item.PrimaryCategory) < max))
            {
                items.Add(new RecommendedItem(item, 0));
            }
        }
    }

    private static int CountIn(List<RecommendedItem> items, string? category)
    {
        var n = 0;
        foreach (var r in items)
        {
            if (r.Item.PrimaryCategory == category)
            {
                n++;
            }
        }
        return n;
    }

    public static bool Passes(CatalogItem item, VisitorProfile? profile, RecommendationFilters filters, List<RecommendedItem> already, Rules.EvalContext? conditions = null) =>
        Rejection(item, profile, filters, already, conditions) is null;

    /// <summary>With explain: the first removals of a list, item and reason (bounded, so a trace stays readable).</summary>
    private static void Explain(DecisionContext context, CatalogItem item, string reason)
    {
        if (context.Trace is { Count: < MaxExplained } trace)
        {
            trace.Add(new TraceStep("filter", "removed", $"{item.Id}: {reason}"));
        }
    }

    private const int MaxExplained = 40;

    /// <summary>The page's filters need not check "already listed" again: the slot's did.</summary>
    private static readonly List<RecommendedItem> NoneListed = [];

    /// <summary>Why an item may not be listed (null: it may): the slot's filters, then the page's own. The reasons are constant strings: no allocation when not explaining.</summary>
    private static string? Rejection(CatalogItem item, VisitorProfile? profile, RecommendationFilters filters, List<RecommendedItem> already, Rules.EvalContext? conditions) =>
        Own(item, profile, filters, already, conditions) ?? (filters.Page is { } page ? Own(item, profile, page, NoneListed, conditions) : null);

    private static string? Own(CatalogItem item, VisitorProfile? profile, RecommendationFilters filters, List<RecommendedItem> already, Rules.EvalContext? conditions)
    {
        if (filters.ItemCondition is { } itemCondition && (conditions is null || !conditions.Holds(itemCondition, item)))
        {
            return "the rule's item condition does not hold";
        }
        if (filters.InStockOnly && !item.InStock)
        {
            return "out of stock";
        }
        if (filters.IncludeCategories.Length > 0 && !AnyIn(item.Categories, filters.IncludeCategories))
        {
            return "not in the slot's categories";
        }
        if (AnyIn(item.Categories, filters.ExcludeCategories))
        {
            return "in a category the slot excludes";
        }
        if (filters.IncludeBrands.Length > 0 && (item.Brand is null || !Contains(filters.IncludeBrands, item.Brand)))
        {
            return "not of the brands asked for";
        }
        if (item.Brand is not null && Contains(filters.ExcludeBrands, item.Brand))
        {
            return "of a brand excluded";
        }
        if (filters.IncludeTags.Length > 0 && !AnyIn(item.Tags, filters.IncludeTags))
        {
            return "without the tags asked for";
        }
        if (AnyIn(item.Tags, filters.ExcludeTags))
        {
            return "with a tag excluded";
        }
        foreach (var condition in filters.Attributes)
        {
            if (!HasAttribute(item, condition))
            {
                return "without the attribute asked for";
            }
        }
        if (item.Price < (filters.MinPrice ?? double.NegativeInfinity) || item.Price > (filters.MaxPrice ?? double.PositiveInfinity))
        {
            return "outside the price range";
        }
        foreach (var r in already)
        {
            if (ReferenceEquals(r.Item, item))
            {
                return "already listed";
            }
        }
        if (profile is null)
        {
            return null;
        }
        // The visitor's own exclusions hold everywhere, whatever the slot says.
        if (AnyIn(item.Categories, profile.Preferences.ExcludedCategories))
        {
            return "in a category the visitor excluded";
        }
        if (filters.ExcludePurchased && profile.HasPurchased(item.Id))
        {
            return "already purchased";
        }
        if (filters.ExcludeRecentlyViewed)
        {
            foreach (var v in profile.RecentlyViewed)
            {
                if (v.ItemId == item.Id)
                {
                    return "viewed recently";
                }
            }
        }
        if (filters.ExcludeInCart)
        {
            foreach (var line in profile.Cart)
            {
                if (line.ItemId == item.Id)
                {
                    return "in the cart";
                }
            }
        }
        return null;
    }

    /// <summary>Whether the item's attribute (the part before the first ':') has the value after it.</summary>
    private static bool HasAttribute(CatalogItem item, string condition)
    {
        var colon = condition.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !item.AttributeValues.TryGetValue(condition[..colon], out var values))
        {
            return false;
        }
        var wanted = condition.AsSpan(colon + 1);
        foreach (var v in values)
        {
            if (wanted.Equals(v, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool Contains(string[] set, string value)
    {
        foreach (var s in set)
        {
            if (string.Equals(s, value, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static bool AnyIn(string[] categories, IReadOnlyList<string> set)
    {
        if (set.Count == 0)
        {
            return false;
        }
        foreach (var c in categories)
        {
            for (var i = 0; i < set.Count; i++)
            {
                if (string.Equals(set[i], c, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }
}

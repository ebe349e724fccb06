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
        var perCategory = slot.Filters.MaxPerCategory > 0 ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
        foreach (var candidate in ranked)
        {
            if (result.Count >= want)
            {
                break;
            }
            var item = context.Catalog.Find(candidate.ItemId);
            if (item is null || !Passes(item, context.Profile, slot.Filters, result))
            {
                continue;
            }
            if (perCategory is not null && item.PrimaryCategory is { } category)
            {
                perCategory.TryGetValue(category, out var n);
                if (n >= slot.Filters.MaxPerCategory)
                {
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
        var max = slot.Filters.MaxPerCategory;
        foreach (var item in context.Catalog.All)
        {
            if (items.Count >= slot.Count)
            {
                return;
            }
            if (Passes(item, context.Profile, slot.Filters, items) && (max <= 0 || CountIn(items, item.PrimaryCategory) < max))
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

    public static bool Passes(CatalogItem item, VisitorProfile? profile, RecommendationFilters filters, List<RecommendedItem> already)
    {
        if (filters.InStockOnly && !item.InStock)
        {
            return false;
        }
        if (filters.IncludeCategories.Length > 0 && !AnyIn(item.Categories, filters.IncludeCategories))
        {
            return false;
        }
        if (AnyIn(item.Categories, filters.ExcludeCategories))
        {
            return false;
        }
        foreach (var r in already)
        {
            if (ReferenceEquals(r.Item, item))
            {
                return false;
            }
        }
        if (profile is null)
        {
            return true;
        }
        // The visitor's own exclusions hold everywhere, whatever the slot says.
        if (AnyIn(item.Categories, profile.Preferences.ExcludedCategories))
        {
            return false;
        }
        if (filters.ExcludePurchased && profile.PurchasedItems.Contains(item.Id))
        {
            return false;
        }
        if (filters.ExcludeInCart)
        {
            foreach (var line in profile.Cart)
            {
                if (line.ItemId == item.Id)
                {
                    return false;
                }
            }
        }
        return true;
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

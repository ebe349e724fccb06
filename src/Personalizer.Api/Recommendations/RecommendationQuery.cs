using System.Globalization;
using Microsoft.Extensions.Primitives;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Recommendations;

/// <summary>
/// The per-request filters and boosts of <c>GET /v1/recommendations</c>, from the query string. Lists
/// are repeated parameters (<c>?excludeCategories=Children's&amp;excludeCategories=Home %26 Garden</c>),
/// since names may hold commas.
/// </summary>
internal static class RecommendationQuery
{
    public const int MaxValues = 20;

    public static (RecommendationFilters Filters, string[] Boost) Read(IQueryCollection query, ValidationErrors errors)
    {
        var filters = new RecommendationFilters
        {
            ExcludePurchased = Bool(query, "excludePurchased", true, errors),
            ExcludeInCart = Bool(query, "excludeInCart", true, errors),
            ExcludeRecentlyViewed = Bool(query, "excludeViewed", false, errors),
            InStockOnly = Bool(query, "inStock", true, errors),
            IncludeCategories = Names(query, "includeCategories", errors),
            ExcludeCategories = Names(query, "excludeCategories", errors),
            IncludeBrands = Names(query, "includeBrands", errors),
            ExcludeBrands = Names(query, "excludeBrands", errors),
            IncludeTags = Names(query, "includeTags", errors),
            ExcludeTags = Names(query, "excludeTags", errors),
            MinPrice = Price(query, "minPrice", errors),
            MaxPrice = Price(query, "maxPrice", errors),
            MaxPerCategory = PerCategory(query, errors),
            Attributes = Attributes(query, errors),
        };
        if (filters.MinPrice > filters.MaxPrice)
        {
            errors.Add("minPrice", "must not be above maxPrice");
        }
        return (filters, Names(query, "boostCategories", errors));
    }

    private static bool Bool(IQueryCollection query, string name, bool fallback, ValidationErrors errors)
    {
        if (!query.TryGetValue(name, out var value))
        {
            return fallback;
        }
        if (value.Count == 1 && bool.TryParse(value[0], out var parsed))
        {
            return parsed;
        }
        errors.Add(name, "must be true or false");
        return fallback;
    }

    private static string[] Names(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (!query.TryGetValue(name, out StringValues values))
        {
            return [];
        }
        if (values.Count > MaxValues)
        {
            errors.Add(name, $"must have at most {MaxValues} values");
            return [];
        }
        var names = new string[values.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = ValidationErrors.TrimName(values[i]) ?? "";
            errors.Name(values.Count == 1 ? name : $"{name}[{i}]", names[i]);
        }
        return names;
    }

    /// <summary><c>attribute=name:value</c>, repeated: every condition must hold.</summary>
    private static string[] Attributes(IQueryCollection query, ValidationErrors errors)
    {
        var values = Names(query, "attribute", errors);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IndexOf(':', StringComparison.Ordinal) <= 0)
            {
                errors.Add(values.Length == 1 ? "attribute" : $"attribute[{i}]", "must be name:value, e.g. material:wool");
            }
        }
        return values;
    }

    private static double? Price(IQueryCollection query, string name, ValidationErrors errors)
    {
        if (!query.TryGetValue(name, out var value))
        {
            return null;
        }
        if (value.Count == 1 && double.TryParse(value[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && double.IsFinite(price) && price >= 0)
        {
            return price;
        }
        errors.Add(name, "must be a number, 0 or more");
        return null;
    }

    private static int PerCategory(IQueryCollection query, ValidationErrors errors)
    {
        if (!query.TryGetValue("maxPerCategory", out var value))
        {
            return 0;
        }
        if (value.Count == 1 && int.TryParse(value[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= RecommendationsApi.MaxCount)
        {
            return n;
        }
        errors.Add("maxPerCategory", $"must be from 0 to {RecommendationsApi.MaxCount}");
        return 0;
    }
}

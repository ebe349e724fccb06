using Personalizer.Engine;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Decisions;

/// <summary>A decide for the console: a stored visitor, or a profile typed in; always explained, never recorded.</summary>
public sealed record PreviewRequest(string? VisitorId, DecideContextRequest? Context, List<string?>? Slots, ProfileInput? Profile);

/// <summary>The parts of a profile a merchandiser can type to see what such a visitor would get.</summary>
public sealed record ProfileInput
{
    public string? CustomerId { get; init; }
    public int? Sessions { get; init; }
    public int? PageViews { get; init; }
    public int? ProductViews { get; init; }
    public int? Orders { get; init; }
    public double? Revenue { get; init; }
    /// <summary>Days since the last order (with orders).</summary>
    public double? DaysSinceLastOrder { get; init; }
    public List<string?>? ViewedItems { get; init; }
    public List<string?>? CartItems { get; init; }
    public List<string?>? PurchasedItems { get; init; }
    /// <summary>Category → affinity score.</summary>
    public Dictionary<string, double>? Affinity { get; init; }
    public List<string?>? ExcludedCategories { get; init; }
    public bool? Personalization { get; init; }
}

internal static class PreviewMapping
{
    private const int MaxList = 200;

    public static VisitorProfile ToProfile(this ProfileInput p, string visitorId, long nowMs, ValidationErrors errors)
    {
        errors.Text("profile.customerId", p.CustomerId, 128);
        foreach (var (name, value) in new[] { ("sessions", p.Sessions), ("pageViews", p.PageViews), ("productViews", p.ProductViews), ("orders", p.Orders) })
        {
            errors.Number($"profile.{name}", value ?? 0, 0, 1_000_000);
        }
        errors.Number("profile.revenue", p.Revenue ?? 0, 0, 1e9);
        errors.Number("profile.daysSinceLastOrder", p.DaysSinceLastOrder ?? 0, 0, 36_500);
        var viewed = Ids(errors, "profile.viewedItems", p.ViewedItems);
        var cart = Ids(errors, "profile.cartItems", p.CartItems);
        var purchased = Ids(errors, "profile.purchasedItems", p.PurchasedItems);
        var excluded = (p.ExcludedCategories ?? []).Select(ValidationErrors.TrimName).ToList();
        if (excluded.Count > MaxList)
        {
            errors.Add("profile.excludedCategories", $"must have at most {MaxList} entries");
            excluded.Clear();
        }
        for (var i = 0; i < excluded.Count; i++)
        {
            errors.Name($"profile.excludedCategories[{i}]", excluded[i]);
        }
        foreach (var (category, score) in p.Affinity ?? [])
        {
            errors.Name($"profile.affinity.{category}", category);
            errors.Number($"profile.affinity.{category}", score, 0, 1e6);
        }
        var orders = p.Orders ?? 0;
        var lastOrder = orders > 0 ? nowMs - (long)((p.DaysSinceLastOrder ?? 0) * 86_400_000) : 0;
        return new VisitorProfile
        {
            VisitorId = visitorId,
            CustomerId = p.CustomerId,
            FirstSeen = nowMs,
            LastSeen = nowMs,
            Sessions = p.Sessions ?? 1,
            PageViews = p.PageViews ?? 0,
            ProductViews = p.ProductViews ?? viewed.Count,
            Orders = orders,
            Revenue = p.Revenue ?? 0,
            LastOrderAt = lastOrder,
            FirstOrderAt = lastOrder,
            RecentlyViewed = [.. viewed.Select(id => new ViewedItem { ItemId = id, At = nowMs })],
            Cart = [.. cart.Select(id => new CartLine { ItemId = id, Quantity = 1, AddedAt = nowMs })],
            PurchasedItems = purchased,
            Affinity = [.. (p.Affinity ?? []).Select(kv => new CategoryAffinity { Category = kv.Key, Score = kv.Value, UpdatedAt = nowMs })],
            Preferences = new VisitorPreferences { ExcludedCategories = [.. excluded.Where(c => c is not null).Select(c => c!)], PersonalizationEnabled = p.Personalization ?? true },
        };
    }

    private static List<string> Ids(ValidationErrors errors, string path, List<string?>? values)
    {
        if (values is null)
        {
            return [];
        }
        if (values.Count > MaxList)
        {
            errors.Add(path, $"must have at most {MaxList} entries");
            return [];
        }
        for (var i = 0; i < values.Count; i++)
        {
            errors.Id($"{path}[{i}]", values[i]);
        }
        return [.. values.Where(v => v is not null).Select(v => v!)];
    }
}

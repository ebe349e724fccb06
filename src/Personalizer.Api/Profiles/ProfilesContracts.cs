using Personalizer.Engine;
using Personalizer.Engine.Profiles;

namespace Personalizer.Api.Profiles;

public sealed record ProfileResponse
{
    public required string VisitorId { get; init; }
    public string? CustomerId { get; init; }
    public DateTimeOffset? FirstSeen { get; init; }
    public DateTimeOffset? LastSeen { get; init; }
    public int Sessions { get; init; }
    public int PageViews { get; init; }
    public int ProductViews { get; init; }
    public int SlotClicks { get; init; }
    public required List<ViewedItemResponse> RecentlyViewed { get; init; }
    public required List<CartLineResponse> Cart { get; init; }
    public double CartValue { get; init; }
    public int Orders { get; init; }
    public double Revenue { get; init; }
    public string? Currency { get; init; }
    public DateTimeOffset? LastOrderAt { get; init; }
    public required List<string> PurchasedItems { get; init; }
    public required List<string> RecentSearches { get; init; }
    /// <summary>Category affinity decayed to now, strongest first.</summary>
    public required List<AffinityResponse> Affinity { get; init; }
    public required PreferencesResponse Preferences { get; init; }
    public required List<string> MergedVisitorIds { get; init; }
}

public sealed record ViewedItemResponse(string ItemId, DateTimeOffset At);

public sealed record CartLineResponse(string ItemId, int Quantity, double Price);

public sealed record AffinityResponse(string Category, double Score);

public sealed record PreferencesResponse(bool Personalization, List<string> Interests, List<string> ExcludedCategories, string Tracking, DateTimeOffset? UpdatedAt);

public sealed record PreferencesRequest(bool? Personalization, List<string?>? Interests, List<string?>? ExcludedCategories, string? Tracking);

public sealed record ProfileExport(string Site, DateTimeOffset ExportedAt, ProfileResponse Profile);

internal static class ProfilesMapping
{
    public const int MaxPreferenceEntries = 50;

    public static ProfileResponse ToResponse(this VisitorProfile p, long nowMs, double halfLifeDays) => new()
    {
        VisitorId = p.VisitorId,
        CustomerId = p.CustomerId,
        FirstSeen = Time(p.FirstSeen),
        LastSeen = Time(p.LastSeen),
        Sessions = p.Sessions,
        PageViews = p.PageViews,
        ProductViews = p.ProductViews,
        SlotClicks = p.SlotClicks,
        RecentlyViewed = [.. p.RecentlyViewed.Select(v => new ViewedItemResponse(v.ItemId, DateTimeOffset.FromUnixTimeMilliseconds(v.At)))],
        Cart = [.. p.Cart.Select(c => new CartLineResponse(c.ItemId, c.Quantity, c.Price))],
        CartValue = Math.Round(p.Cart.Sum(c => c.Price * c.Quantity), 2),
        Orders = p.Orders,
        Revenue = p.Revenue,
        Currency = p.Currency,
        LastOrderAt = Time(p.LastOrderAt),
        PurchasedItems = p.PurchasedItems,
        RecentSearches = p.RecentSearches,
        Affinity = [.. p.Affinity
            .Select(a => new AffinityResponse(a.Category, Math.Round(ProfileFolder.AffinityAt(a, nowMs, halfLifeDays * 86_400_000d), 4)))
            .OrderByDescending(a => a.Score)],
        Preferences = p.Preferences.ToResponse(),
        MergedVisitorIds = p.MergedVisitorIds,
    };

    public static PreferencesResponse ToResponse(this VisitorPreferences p) => new(
        p.PersonalizationEnabled, p.Interests, p.ExcludedCategories, p.Tracking.ToString().ToLowerInvariant(), Time(p.UpdatedAt));

    public static VisitorPreferences? ToPreferences(this PreferencesRequest r, VisitorPreferences current, ValidationErrors errors)
    {
        var tracking = current.Tracking;
        if (r.Tracking is not null && !Enum.TryParse(r.Tracking, ignoreCase: true, out tracking))
        {
            errors.Add("tracking", "must be 'granted', 'denied' or 'unknown'");
        }
        var interests = Ids("interests", r.Interests, errors) ?? current.Interests;
        var excluded = Ids("excludedCategories", r.ExcludedCategories, errors) ?? current.ExcludedCategories;
        return errors.IsEmpty
            ? new VisitorPreferences
            {
                PersonalizationEnabled = r.Personalization ?? current.PersonalizationEnabled,
                Interests = interests,
                ExcludedCategories = excluded,
                Tracking = tracking,
            }
            : null;
    }

    private static List<string>? Ids(string path, List<string?>? values, ValidationErrors errors)
    {
        if (values is null)
        {
            return null;
        }
        if (values.Count > MaxPreferenceEntries)
        {
            errors.Add(path, $"must have at most {MaxPreferenceEntries} entries");
            return null;
        }
        for (var i = 0; i < values.Count; i++)
        {
            errors.Id($"{path}[{i}]", values[i]);
        }
        return [.. values.Where(v => v is not null).Select(v => v!).Distinct()];
    }

    private static DateTimeOffset? Time(long ms) => ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Profiles;

public sealed class ProfileOptions
{

    [Range(1, 200)]
    public int RecentlyViewedLimit { get; set; } = 20;

    [Range(1, 1000)]
    public int PurchasedItemsLimit { get; set; } = 100;

    /// <summary>
    /// Distinct items kept in a visitor's interaction history (what fold-in uses); purchased items are
    /// kept whatever this says, so "exclude purchased" holds for any number of purchases.
    /// </summary>
    [Range(10, 100_000)]
    public int ItemHistoryLimit { get; set; } = 1000;

    [Range(1, 200)]
    public int AffinityCategoriesLimit { get; set; } = 30;

    /// <summary>Half-life of category affinity, in days.</summary>
    [Range(0.01, 3650)]
    public double AffinityHalfLifeDays { get; set; } = 14;

    /// <summary>Inactivity that ends a session, in minutes.</summary>
    [Range(1, 1440)]
    public int SessionTimeoutMinutes { get; set; } = 30;

    /// <summary>Half-life of the trending score, in hours.</summary>
    [Range(0.01, 8760)]
    public double TrendingHalfLifeHours { get; set; } = 24;
}

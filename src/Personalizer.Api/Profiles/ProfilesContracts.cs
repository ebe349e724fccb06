using Personalizer.Engine;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Validation;

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
    /// <summary>Brand affinity decayed to now, strongest first.</summary>
    public required List<AffinityResponse> BrandAffinity { get; init; }
    /// <summary>Item-tag affinity decayed to now, strongest first.</summary>
    public required List<AffinityResponse> TagAffinity { get; init; }
    /// <summary>visitor, engaged_prospect, first_time_customer, repeat_customer, loyal, at_risk or lapsed (docs/crm.md).</summary>
    public required string Lifecycle { get; init; }
    /// <summary>Scores against the site's customers; null without orders (or before the first model).</summary>
    public RfmResponse? Rfm { get; init; }
    /// <summary>Lifetime value; null without orders or before the site has enough customers for a model.</summary>
    public ClvResponse? Clv { get; init; }
    /// <summary>Why there is no <see cref="Clv"/> for a customer (too few customers, a failed check…).</summary>
    public string? ClvUnavailable { get; init; }
    public required PreferencesResponse Preferences { get; init; }
    public required List<string> MergedVisitorIds { get; init; }
}

public sealed record ViewedItemResponse(string ItemId, DateTimeOffset At);

public sealed record CartLineResponse(string ItemId, int Quantity, double Price);

public sealed record AffinityResponse(string Category, double Score);

public sealed record RfmResponse(int R, int F, int M, string Segment, double RecencyDays);

public sealed record ClvResponse(double ExpectedPurchases90d, double ProbabilityAlive, double PredictedValue1y);

public sealed record PreferencesResponse(bool Personalization, List<string> Interests, List<string> ExcludedCategories, string Tracking, DateTimeOffset? UpdatedAt);

public sealed record PreferencesRequest(bool? Personalization, List<string?>? Interests, List<string?>? ExcludedCategories, string? Tracking);

/// <param name="Events">Every event held about the visitor, archived or recent, in time order.</param>
/// <param name="Decisions">Every slot served to the visitor (one entry per slot of a decision), in time order.</param>
public sealed record ProfileExport(string Site, DateTimeOffset ExportedAt, ProfileResponse Profile, IReadOnlyList<ExportedEvent> Events, IReadOnlyList<ExportedDecision> Decisions);

public sealed record ExportedEvent(string EventId, string Type, string VisitorId, DateTimeOffset Timestamp, string? ItemId, int? Quantity, double? Price,
    string? OrderId, IReadOnlyList<ExportedLine>? Lines, double? Revenue, string? Currency, string? CustomerId, string? Query, string? SlotId, string? Variant, string? Url);

public sealed record ExportedLine(string ItemId, int Quantity, double Price);

public sealed record ExportedDecision(string DecisionId, DateTimeOffset At, string SlotId, string? Variant, string Source, IReadOnlyList<string>? Items);

internal static class ProfilesMapping
{
    public const int MaxPreferenceEntries = 50;

    public static ProfileResponse ToResponse(this VisitorProfile p, long nowMs, double halfLifeDays, CustomerModel? customers) => Map(p, nowMs, halfLifeDays, CustomerInsights.Of(p, customers, nowMs));

    private static List<AffinityResponse> Decayed(List<CategoryAffinity> affinity, long nowMs, double halfLifeDays) =>
        [.. affinity.Select(a => new AffinityResponse(a.Category, Math.Round(ProfileFolder.AffinityAt(a, nowMs, halfLifeDays * 86_400_000d), 4))).OrderByDescending(a => a.Score)];

    private static ProfileResponse Map(VisitorProfile p, long nowMs, double halfLifeDays, CustomerInsight insight) => new()
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
        Affinity = Decayed(p.Affinity, nowMs, halfLifeDays),
        BrandAffinity = Decayed(p.BrandAffinity, nowMs, halfLifeDays),
        TagAffinity = Decayed(p.TagAffinity, nowMs, halfLifeDays),
        Lifecycle = insight.Lifecycle,
        Rfm = insight.Rfm is { } r ? new RfmResponse(r.R, r.F, r.M, r.Segment, Math.Round(r.RecencyDays, 2)) : null,
        Clv = insight.Clv is { } v ? new ClvResponse(Math.Round(v.ExpectedPurchases90d, 4), Math.Round(v.ProbabilityAlive, 4), Math.Round(v.PredictedValue1y, 2)) : null,
        ClvUnavailable = p.Orders > 0 ? insight.ClvUnavailable : null,
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
        var interests = Names("interests", r.Interests, errors) ?? current.Interests;
        var excluded = Names("excludedCategories", r.ExcludedCategories, errors) ?? current.ExcludedCategories;
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

    /// <summary>Category names (free text, trimmed), each once.</summary>
    private static List<string>? Names(string path, List<string?>? values, ValidationErrors errors)
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
            values[i] = ValidationErrors.TrimName(values[i]);
            errors.Name($"{path}[{i}]", values[i]);
        }
        return [.. values.Where(v => v is not null).Select(v => v!).Distinct()];
    }

    private static DateTimeOffset? Time(long ms) => ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

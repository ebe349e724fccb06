using System.Collections.Concurrent;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Crm;

/// <summary>Quintile cut points of the site's customers: days since the last order, orders, revenue (each ascending, four values).</summary>
public sealed record RfmCutPoints(double[] RecencyDays, double[] Orders, double[] Revenue);

/// <summary>What is fitted on a site's customers from time to time: RFM cut points and the lifetime-value models (when there are enough customers).</summary>
/// <remarks>
/// Time is in days (α is a rate per day). <see cref="BgNbd"/> and <see cref="GammaGamma"/> are what the
/// fit gave, shown even when a check refused them; profiles use them only when
/// <see cref="ClvUnavailable"/> (resp. <see cref="SpendUnavailable"/>) is null.
/// </remarks>
public sealed record CustomerModel(string Site, long FittedAt, int Customers, int RepeatCustomers, RfmCutPoints? Rfm, BgNbdParameters? BgNbd, GammaGammaParameters? GammaGamma)
{
    /// <summary>The last day of the history the model was fitted on (yyyy-MM-dd).</summary>
    public string? AsOf { get; init; }
    public string TimeUnit { get; init; } = "days";
    /// <summary>Why profiles carry no lifetime value (null: the model is in use).</summary>
    public string? ClvUnavailable { get; init; }
    /// <summary>Why spend comes from the customer's own mean rather than Gamma-Gamma (null: Gamma-Gamma is in use).</summary>
    public string? SpendUnavailable { get; init; }
    public HoldoutReport? Holdout { get; init; }
    /// <summary>The customer base as of <see cref="AsOf"/>: RFM grid, lifecycle funnel, lifetime-value histogram.</summary>
    public CustomerDistribution? Distribution { get; init; }
    public int RecentBuyerDays { get; init; } = 30;

    /// <summary>The lifetime-value parameters profiles may use (null when a check refused them).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public BgNbdParameters? UsableBgNbd => ClvUnavailable is null ? BgNbd : null;
}

public readonly record struct RfmScore(int R, int F, int M, string Segment, double RecencyDays);

public readonly record struct LifetimeValue(double ExpectedPurchases90d, double ProbabilityAlive, double PredictedValue1y);

/// <summary>Who a visitor is worth and where they are, computed from their profile and the site's current <see cref="CustomerModel"/>.</summary>
public readonly record struct CustomerInsight(RfmScore? Rfm, LifetimeValue? Clv, string Lifecycle, string? ClvUnavailable = null);

/// <summary>The current model of every site (one reference per site, swapped whole).</summary>
public sealed class CustomerModels
{
    private readonly ConcurrentDictionary<string, CustomerModel> _models = new(StringComparer.Ordinal);

    public CustomerModel? Current(string site) => _models.TryGetValue(site, out var m) ? m : null;

    public void Publish(CustomerModel model) => _models[model.Site] = model;
}

/// <summary>
/// RFM scores and segments, lifetime value and lifecycle stage of one profile. docs/crm.md documents
/// every range and threshold; <see cref="Segments"/> and <see cref="Stages"/> are the names.
/// </summary>
public static class CustomerInsights
{
    public const double WeekMs = 7 * 86_400_000d;
    public const double DayMs = 86_400_000d;

    public static readonly string[] Segments =
        ["champions", "loyal", "potential_loyalists", "new_customers", "promising", "need_attention", "about_to_sleep", "at_risk", "cant_lose_them", "hibernating", "lost"];

    public static readonly string[] Stages =
        ["visitor", "engaged_prospect", "first_time_customer", "repeat_customer", "loyal", "at_risk", "lapsed"];

    /// <summary>Lifecycle thresholds (see docs/crm.md).</summary>
    public const int EngagedProductViews = 3;
    public const int LoyalOrders = 4;
    public const double AtRiskDays = 180, LapsedDays = 365;
    public const double AtRiskAlive = 0.5, LapsedAlive = 0.2;

    public static CustomerInsight Of(VisitorProfile? p, CustomerModel? model, long nowMs)
    {
        if (p is null || p.Orders == 0)
        {
            var engaged = p is not null && (p.ProductViews >= EngagedProductViews || p.Cart.Count > 0 || p.Sessions >= 2);
            return new CustomerInsight(null, null, engaged ? "engaged_prospect" : "visitor");
        }
        // Whole calendar days, as the model counts them: an order minutes ago is 0 days ago.
        var today = PurchaseHistory.DayOf(nowMs);
        var days = Math.Max(0, today - PurchaseHistory.DayOf(p.LastOrderAt));
        var recentDays = model?.RecentBuyerDays ?? DefaultRecentBuyerDays;
        var recent = days <= recentDays;
        RfmScore? rfm = model?.Rfm is { } cuts ? Score(cuts, days, p.Orders, p.Revenue, recent) : null;
        LifetimeValue? clv = model?.UsableBgNbd is { } bgnbd ? Value(bgnbd, model.SpendUnavailable is null ? model.GammaGamma : null, p, today) : null;
        var reason = clv is not null ? null : model?.ClvUnavailable ?? (model is null ? "no customer model fitted yet" : "the lifetime-value model is not fitted");
        return new CustomerInsight(rfm, clv, Stage(p, days, recent, rfm, clv), reason);
    }

    public const int DefaultRecentBuyerDays = 30;

    /// <summary>
    /// The summary the models read, in days, from the profile's purchase days (same-day orders are one
    /// transaction; the mean spend is over repeat days, the first day excluded). Profiles written before
    /// purchase days were kept fall back to orders and the first and last order.
    /// </summary>
    public static CustomerSummary Summary(VisitorProfile p, int today)
    {
        if (p.OrderDays.Count > 0)
        {
            var first = p.OrderDays[0];
            var repeatSpend = 0d;
            for (var i = 1; i < p.OrderDays.Count; i++)
            {
                repeatSpend += p.OrderDays[i].Amount;
            }
            var x = p.OrderDays.Count - 1;
            return new CustomerSummary(x, p.OrderDays[^1].Day - first.Day, Math.Max(today - first.Day, 1e-6), x > 0 ? repeatSpend / x : 0);
        }
        var firstDay = PurchaseHistory.DayOf(p.FirstOrderAt > 0 ? p.FirstOrderAt : p.FirstSeen);
        var lastDay = PurchaseHistory.DayOf(p.LastOrderAt);
        var repeat = lastDay > firstDay ? p.Orders - 1 : 0;
        return new CustomerSummary(repeat, lastDay - firstDay, Math.Max(today - firstDay, 1e-6), p.Orders > 0 ? p.Revenue / p.Orders : 0);
    }

    private static LifetimeValue Value(BgNbdParameters bgnbd, GammaGammaParameters? gg, VisitorProfile p, int today)
    {
        var c = Summary(p, today);
        var spend = gg is not null && c.Frequency > 0 ? GammaGamma.ExpectedSpend(gg, c)
            : c.Frequency > 0 ? c.MeanSpend
            : p.Orders > 0 ? p.Revenue / p.Orders : 0;
        return new LifetimeValue(
            BgNbd.ExpectedPurchases(bgnbd, c, 90),
            BgNbd.ProbabilityAlive(bgnbd, c),
            BgNbd.ExpectedPurchases(bgnbd, c, 365) * spend);
    }

    /// <summary>RFM scores; a recent buyer's recency score is at least 4 whatever the cut points say (a young shop's cut points are minutes apart).</summary>
    public static RfmScore Score(RfmCutPoints cuts, double recencyDays, int orders, double revenue, bool recentBuyer = false)
    {
        var r = 5 - Above(cuts.RecencyDays, recencyDays);
        r = recentBuyer ? Math.Max(r, 4) : r;
        var f = 1 + Above(cuts.Orders, orders);
        var m = 1 + Above(cuts.Revenue, revenue);
        return new RfmScore(r, f, m, Segment(r, f), recencyDays);
    }

    private static int Above(double[] cuts, double value)
    {
        var n = 0;
        foreach (var c in cuts)
        {
            n += value > c ? 1 : 0;
        }
        return n;
    }

    /// <summary>The named segment of a recency and frequency score (the table in docs/crm.md).</summary>
    public static string Segment(int r, int f) => (r, f) switch
    {
        (5, >= 4) => "champions",
        (3 or 4, >= 4) => "loyal",
        (4 or 5, 2 or 3) => "potential_loyalists",
        (5, 1) => "new_customers",
        (4, 1) => "promising",
        (3, 3) => "need_attention",
        (3, <= 2) => "about_to_sleep",
        (<= 2, 3 or 4) => "at_risk",
        (<= 2, 5) => "cant_lose_them",
        (1, 1) => "lost",
        _ => "hibernating",
    };

    private static string Stage(VisitorProfile p, double days, bool recent, RfmScore? rfm, LifetimeValue? clv)
    {
        // A customer who just bought is neither lapsed nor at risk, whatever a model says.
        if (!recent && (days > LapsedDays || clv is { ProbabilityAlive: < LapsedAlive }))
        {
            return "lapsed";
        }
        if (!recent && (days > AtRiskDays || clv is { ProbabilityAlive: < AtRiskAlive }))
        {
            return "at_risk";
        }
        if (p.Orders >= LoyalOrders || rfm?.Segment is "champions" or "loyal")
        {
            return "loyal";
        }
        return p.Orders == 1 ? "first_time_customer" : "repeat_customer";
    }
}

using System.Collections.Concurrent;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Crm;

/// <summary>Quintile cut points of the site's customers: days since the last order, orders, revenue (each ascending, four values).</summary>
public sealed record RfmCutPoints(double[] RecencyDays, double[] Orders, double[] Revenue);

/// <summary>What is fitted on a site's customers from time to time: RFM cut points and the lifetime-value models (when there are enough customers).</summary>
public sealed record CustomerModel(string Site, long FittedAt, int Customers, int RepeatCustomers, RfmCutPoints? Rfm, BgNbdParameters? BgNbd, GammaGammaParameters? GammaGamma);

public readonly record struct RfmScore(int R, int F, int M, string Segment, double RecencyDays);

public readonly record struct LifetimeValue(double ExpectedPurchases90d, double ProbabilityAlive, double PredictedValue1y);

/// <summary>Who a visitor is worth and where they are, computed from their profile and the site's current <see cref="CustomerModel"/>.</summary>
public readonly record struct CustomerInsight(RfmScore? Rfm, LifetimeValue? Clv, string Lifecycle);

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
        var days = Math.Max(0, (nowMs - p.LastOrderAt) / DayMs);
        RfmScore? rfm = model?.Rfm is { } cuts ? Score(cuts, days, p.Orders, p.Revenue) : null;
        LifetimeValue? clv = model?.BgNbd is { } bgnbd ? Value(bgnbd, model.GammaGamma, p, nowMs) : null;
        return new CustomerInsight(rfm, clv, Stage(p, days, rfm, clv));
    }

    /// <summary>The summary the models read, in weeks since the first order.</summary>
    public static CustomerSummary Summary(int orders, long firstOrderAt, long lastOrderAt, double revenue, long nowMs) => new(
        Frequency: orders - 1,
        Recency: Math.Max(0, (lastOrderAt - firstOrderAt) / WeekMs),
        Age: Math.Max(1e-6, (nowMs - firstOrderAt) / WeekMs),
        MeanSpend: orders > 0 ? revenue / orders : 0);

    private static LifetimeValue Value(BgNbdParameters bgnbd, GammaGammaParameters? gg, VisitorProfile p, long nowMs)
    {
        var first = p.FirstOrderAt > 0 ? p.FirstOrderAt : p.FirstSeen;
        var c = Summary(p.Orders, first, p.LastOrderAt, p.Revenue, nowMs);
        var spend = gg is not null && c.Frequency > 0 ? GammaGamma.ExpectedSpend(gg, c) : c.MeanSpend;
        return new LifetimeValue(
            BgNbd.ExpectedPurchases(bgnbd, c, 90 / 7d),
            BgNbd.ProbabilityAlive(bgnbd, c),
            BgNbd.ExpectedPurchases(bgnbd, c, 365 / 7d) * spend);
    }

    public static RfmScore Score(RfmCutPoints cuts, double recencyDays, int orders, double revenue)
    {
        var r = 5 - Above(cuts.RecencyDays, recencyDays);
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

    private static string Stage(VisitorProfile p, double days, RfmScore? rfm, LifetimeValue? clv)
    {
        if (days > LapsedDays || clv is { ProbabilityAlive: < LapsedAlive })
        {
            return "lapsed";
        }
        if (days > AtRiskDays || clv is { ProbabilityAlive: < AtRiskAlive })
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

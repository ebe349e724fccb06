using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Crm;

/// <summary>How many customers fall in one lifetime-value range (upper bound exclusive; null: open).</summary>
public sealed record ValueBucket(double From, double? To, int Customers);

/// <summary>
/// The customer base at a refit, for the console: customers per RFM recency × frequency score
/// (<see cref="RfmGrid"/>[R−1][F−1]), per lifecycle stage (the funnel, visitors and engaged prospects
/// included), and per range of predicted 12-month value. Each customer is scored exactly as their
/// profile would be (<see cref="CustomerInsights.Of"/>) on the day of the refit.
/// </summary>
public sealed record CustomerDistribution(int[][] RfmGrid, IReadOnlyDictionary<string, int> Stages, IReadOnlyList<ValueBucket> Value, int WithValue)
{
    private static readonly double[] Edges = [0, 10, 25, 50, 100, 250, 500, 1000];

    public static CustomerDistribution Of(CustomerModel model, IReadOnlyList<CustomerPurchases> all, int asOfDay, int visitors, int engagedVisitors)
    {
        var grid = Enumerable.Range(0, 5).Select(_ => new int[5]).ToArray();
        var stages = CustomerInsights.Stages.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        var buckets = new int[Edges.Length];
        var withValue = 0;
        var nowMs = (long)((asOfDay + 0.5) * CustomerInsights.DayMs);
        var customers = 0;
        foreach (var c in all)
        {
            var n = c.CountUpTo(asOfDay);
            if (n == 0)
            {
                continue;
            }
            customers++;
            var days = c.Days.AsSpan(0, n);
            var profile = new VisitorProfile
            {
                VisitorId = c.Id,
                FirstOrderAt = (long)(days[0].Day * CustomerInsights.DayMs),
                LastOrderAt = (long)(days[^1].Day * CustomerInsights.DayMs),
            };
            foreach (var d in days)
            {
                profile.Orders += d.Orders;
                profile.Revenue += d.Amount;
                profile.OrderDays.Add(new OrderDay { Day = d.Day, Amount = d.Amount });
            }
            var insight = CustomerInsights.Of(profile, model, nowMs);
            stages[insight.Lifecycle]++;
            if (insight.Rfm is { } rfm)
            {
                grid[rfm.R - 1][rfm.F - 1]++;
            }
            if (insight.Clv is { } clv)
            {
                withValue++;
                var b = Edges.Length - 1;
                while (b > 0 && clv.PredictedValue1y < Edges[b])
                {
                    b--;
                }
                buckets[b]++;
            }
        }
        stages["visitor"] = Math.Max(0, visitors - engagedVisitors - customers);
        stages["engaged_prospect"] = engagedVisitors;
        var value = Enumerable.Range(0, Edges.Length).Select(b => new ValueBucket(Edges[b], b + 1 < Edges.Length ? Edges[b + 1] : null, buckets[b])).ToList();
        return new CustomerDistribution(grid, stages, value, withValue);
    }
}

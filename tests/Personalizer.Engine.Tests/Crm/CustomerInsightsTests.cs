using Personalizer.Engine.Crm;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Crm;

public sealed class CustomerInsightsTests
{
    private const long Now = 1_800_000_000_000;
    private static readonly RfmCutPoints Cuts = new([10, 30, 90, 180], [1, 1, 2, 4], [50, 100, 200, 400]);

    private static VisitorProfile Customer(int orders, double daysSinceLast, double revenue = 100) => new()
    {
        VisitorId = "v",
        Orders = orders,
        Revenue = revenue,
        LastOrderAt = Now - (long)(daysSinceLast * CustomerInsights.DayMs),
        FirstOrderAt = Now - (long)((daysSinceLast + 100) * CustomerInsights.DayMs),
    };

    [Fact]
    public void EveryRecencyAndFrequencyScoreHasOneOfTheElevenSegments()
    {
        var seen = new HashSet<string>();
        for (var r = 1; r <= 5; r++)
        {
            for (var f = 1; f <= 5; f++)
            {
                seen.Add(CustomerInsights.Segment(r, f));
            }
        }
        Assert.Equal(CustomerInsights.Segments.Order(), seen.Order());
        Assert.Equal("champions", CustomerInsights.Segment(5, 5));
        Assert.Equal("lost", CustomerInsights.Segment(1, 1));
        Assert.Equal("cant_lose_them", CustomerInsights.Segment(1, 5));
        Assert.Equal("new_customers", CustomerInsights.Segment(5, 1));
    }

    [Theory]
    [InlineData(5, 1, 40, 5, 1)]     // bought 5 days ago, once, for 40
    [InlineData(200, 5, 500, 1, 5)]  // long ago, often, a lot
    [InlineData(45, 3, 150, 3, 4)]
    public void ScoresCountTheCutPointsPassed(double days, int orders, double revenue, int r, int f)
    {
        var score = CustomerInsights.Score(Cuts, days, orders, revenue);
        Assert.Equal(r, score.R);
        Assert.Equal(f, score.F);
        Assert.InRange(score.M, 1, 5);
        Assert.Equal(CustomerInsights.Segment(r, f), score.Segment);
    }

    [Fact]
    public void LifecycleStagesFollowTheDocumentedThresholds()
    {
        var model = new CustomerModel("s", Now, 100, 50, Cuts, null, null);
        Assert.Equal("visitor", CustomerInsights.Of(null, model, Now).Lifecycle);
        Assert.Equal("visitor", CustomerInsights.Of(new VisitorProfile { PageViews = 3 }, model, Now).Lifecycle);
        Assert.Equal("engaged_prospect", CustomerInsights.Of(new VisitorProfile { ProductViews = 3 }, model, Now).Lifecycle);
        Assert.Equal("engaged_prospect", CustomerInsights.Of(new VisitorProfile { Cart = [new CartLine { ItemId = "i" }] }, model, Now).Lifecycle);
        Assert.Equal("first_time_customer", CustomerInsights.Of(Customer(1, 20), model, Now).Lifecycle);
        Assert.Equal("repeat_customer", CustomerInsights.Of(Customer(2, 40), model, Now).Lifecycle);
        Assert.Equal("loyal", CustomerInsights.Of(Customer(4, 40), model, Now).Lifecycle);
        Assert.Equal("loyal", CustomerInsights.Of(Customer(5, 2), model, Now).Lifecycle); // champions
        Assert.Equal("at_risk", CustomerInsights.Of(Customer(6, 200), model, Now).Lifecycle);
        Assert.Equal("lapsed", CustomerInsights.Of(Customer(6, 400), model, Now).Lifecycle);

        // With a lifetime-value model, P(alive) decides too: a frequent buyer silent for a long while is lapsed early.
        var withClv = model with { BgNbd = new BgNbdParameters(0.5, 2, 0.5, 3) };
        var silent = CustomerInsights.Of(Customer(12, 150), withClv, Now);
        Assert.NotNull(silent.Clv);
        Assert.True(silent.Clv.Value.ProbabilityAlive < CustomerInsights.AtRiskAlive);
        Assert.True(silent.Lifecycle is "at_risk" or "lapsed", silent.Lifecycle);
    }
}

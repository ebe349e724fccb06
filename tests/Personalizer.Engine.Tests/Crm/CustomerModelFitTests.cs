using MathNet.Numerics.Distributions;
using Personalizer.Engine.Crm;

namespace Personalizer.Engine.Tests.Crm;

public sealed class CustomerModelFitTests
{
    private static readonly CrmOptions Options = new();

    /// <summary>
    /// Customers drawn from the BG/NBD story in whole days: first purchase within the first 84 days,
    /// purchase days at a Gamma(r, α)-distributed daily rate, a Beta(a, b) chance of dropping out after
    /// each; spend per day around a personal mean.
    /// </summary>
    private static List<CustomerPurchases> Simulate(int customers, int lastDay, int seed)
    {
        var random = new Random(seed);
        var rates = new Gamma(0.25, 30.0, random); // shape r, rate α per day: mean 1 purchase day a month… for the few
        var dropouts = new Beta(0.8, 2.4, random);
        var result = new List<CustomerPurchases>();
        for (var c = 0; c < customers; c++)
        {
            var rate = rates.Sample();
            var dropout = dropouts.Sample();
            var spend = 10 + random.NextDouble() * 40;
            var day = (double)random.Next(0, 84);
            var days = new SortedDictionary<int, PurchaseDay>();
            while (day <= lastDay)
            {
                var d = (int)day;
                days[d] = new PurchaseDay(d, Math.Round(spend * (0.5 + random.NextDouble()), 2), 1);
                if (random.NextDouble() < dropout)
                {
                    break;
                }
                day += Math.Max(1, -Math.Log(1 - random.NextDouble()) / rate);
            }
            result.Add(new CustomerPurchases($"c{c}", [.. days.Values]));
        }
        return result;
    }

    [Fact]
    public void AModelFittedOnTheCalibrationPeriodPredictsTheHoldoutAndIsUsed()
    {
        var customers = Simulate(3000, lastDay: 546, seed: 5);

        var model = CustomerModelFit.Fit("s", customers, asOfDay: 273, holdoutEndDay: 546, Options, fittedAt: 0);

        Assert.Null(model.ClvUnavailable);
        Assert.NotNull(model.UsableBgNbd);
        var holdout = model.Holdout!;
        Assert.True(holdout.Passed, holdout.Outcome);
        Assert.InRange(holdout.RelativeError!.Value, -0.1, 0.1);
        Assert.Equal(model.Customers, holdout.Groups.Sum(g => g.Customers));
        Assert.Equal(customers.Sum(c => c.DaysBetween(273, 546)), holdout.Actual);
        // The groups line up as the papers' tables do: more calibration purchases, more predicted.
        Assert.True(holdout.Groups[3].Predicted / holdout.Groups[3].Customers > holdout.Groups[0].Predicted / holdout.Groups[0].Customers);
    }

    [Fact]
    public void AModelThatMissesTheHoldoutIsNotUsedAndSaysWhy()
    {
        var customers = Simulate(3000, lastDay: 546, seed: 5);
        // After the calibration period every customer buys every week: no model fitted before can know.
        var surge = customers.Select(c => new CustomerPurchases(c.Id,
            [.. c.Days.Where(d => d.Day <= 273), .. Enumerable.Range(0, 39).Select(w => new PurchaseDay(280 + 7 * w, 10, 1))])).ToList();

        var model = CustomerModelFit.Fit("s", surge, asOfDay: 273, holdoutEndDay: 546, Options, fittedAt: 0);

        Assert.True(model.Holdout is not null, model.ClvUnavailable);
        Assert.False(model.Holdout.Passed);
        Assert.StartsWith("the holdout check failed", model.ClvUnavailable);
        Assert.Null(model.UsableBgNbd);
        Assert.NotNull(model.BgNbd); // shown, not used
    }

    [Theory]
    [InlineData(0.5, 5e-324, 1, 2, "alpha")]
    [InlineData(40, 20, 1, 2, "r/alpha")]
    [InlineData(0.5, 10, 1e-9, 1e6, "drop-out")]
    [InlineData(0.5, double.PositiveInfinity, 1, 2, "finite")]
    public void ParametersThatDescribeNoCustomersAreRefused(double r, double alpha, double a, double b, string named)
    {
        Assert.Contains(named, CustomerModelFit.OutOfBounds(new BgNbdParameters(r, alpha, a, b)));
    }

    [Fact]
    public void HomogeneousDropOutWithLargeAAndBIsAllowed()
    {
        Assert.Null(CustomerModelFit.OutOfBounds(new BgNbdParameters(0.75, 78, 1.46e6, 8.77e6)));
        Assert.Null(CustomerModelFit.OutOfBounds(new BgNbdParameters(0.2426, 30.89, 0.7929, 2.4258)));
    }

    [Fact]
    public void SameDayOrdersAreOneTransactionAndSpendIsTheMeanOfRepeatDays()
    {
        var c = new CustomerPurchases("c", [new PurchaseDay(100, 50, 3), new PurchaseDay(110, 20, 1), new PurchaseDay(130, 40, 2), new PurchaseDay(400, 99, 1)]);

        var s = c.Summary(asOfDay: 200);

        Assert.Equal(2, s.Frequency);
        Assert.Equal(30, s.Recency);
        Assert.Equal(100, s.Age);
        Assert.Equal(30, s.MeanSpend); // (20 + 40) / 2: the first day is not a repeat transaction
        Assert.Equal(1, c.DaysBetween(200, 400));
    }
}

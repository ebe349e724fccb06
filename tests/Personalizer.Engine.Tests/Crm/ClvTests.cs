using MathNet.Numerics.Distributions;
using MathNet.Numerics.Random;
using Personalizer.Engine.Crm;

namespace Personalizer.Engine.Tests.Crm;

/// <summary>Both models fitted on customers simulated from known parameters.</summary>
public sealed class ClvTests
{
    private static readonly BgNbdParameters TrueBgNbd = new(0.5, 6, 0.8, 2.5);
    private static readonly GammaGammaParameters TrueSpend = new(6, 4, 15);

    /// <summary>BG/NBD's story: a Gamma rate of purchases while alive, a Beta chance of dropping out after each repeat purchase.</summary>
    private static List<CustomerSummary> Simulate(int customers, double weeks, int seed)
    {
        var random = new MersenneTwister(seed);
        var list = new List<CustomerSummary>(customers);
        for (var c = 0; c < customers; c++)
        {
            var rate = Gamma.Sample(random, TrueBgNbd.R, TrueBgNbd.Alpha);
            var dropout = Beta.Sample(random, TrueBgNbd.A, TrueBgNbd.B);
            var value = Gamma.Sample(random, TrueSpend.Q, TrueSpend.V);
            double t = 0, last = 0, spend = 0;
            var x = 0;
            while (true)
            {
                t += Exponential.Sample(random, rate);
                if (t > weeks)
                {
                    break;
                }
                x++;
                last = t;
                spend += Gamma.Sample(random, TrueSpend.P, value);
                if (random.NextDouble() < dropout)
                {
                    break;
                }
            }
            list.Add(new CustomerSummary(x, last, weeks, x > 0 ? spend / x : 0));
        }
        return list;
    }

    [Fact]
    public void BgNbdFindsAtLeastTheLikelihoodOfTheTrueParametersAndRecoversTheRate()
    {
        var customers = Simulate(4000, 52, seed: 11);

        var fitted = BgNbd.Fit(customers);

        Assert.True(BgNbd.LogLikelihood(fitted, customers) >= BgNbd.LogLikelihood(TrueBgNbd, customers) - 1e-6);
        Assert.InRange(fitted.R / fitted.Alpha, 0.75 * TrueBgNbd.R / TrueBgNbd.Alpha, 1.25 * TrueBgNbd.R / TrueBgNbd.Alpha);
        Assert.InRange(fitted.A / (fitted.A + fitted.B), 0.6 * 0.8 / 3.3, 1.4 * 0.8 / 3.3);
    }

    [Fact]
    public void GammaGammaFindsAtLeastTheLikelihoodOfTheTrueParameters()
    {
        var customers = Simulate(4000, 52, seed: 12);

        var fitted = GammaGamma.Fit(customers);

        double Ll(GammaGammaParameters m) => customers.Where(c => c.Frequency > 0).Sum(c => GammaGamma.LogLikelihood(m, c));
        Assert.True(Ll(fitted) >= Ll(TrueSpend) - 1e-6);
        // The mean spend per transaction, p·v/(q−1), is well identified.
        var mean = TrueSpend.P * TrueSpend.V / (TrueSpend.Q - 1);
        Assert.InRange(fitted.P * fitted.V / (fitted.Q - 1), 0.85 * mean, 1.15 * mean);
    }

    [Fact]
    public void AQuietCustomerIsLessLikelyAliveThanARecentOne()
    {
        var recent = new CustomerSummary(5, 50, 52);
        var quiet = new CustomerSummary(5, 10, 52);

        Assert.True(BgNbd.ProbabilityAlive(TrueBgNbd, recent) > BgNbd.ProbabilityAlive(TrueBgNbd, quiet));
        Assert.Equal(1, BgNbd.ProbabilityAlive(TrueBgNbd, new CustomerSummary(0, 0, 52)));
        Assert.True(BgNbd.ExpectedPurchases(TrueBgNbd, recent, 13) > BgNbd.ExpectedPurchases(TrueBgNbd, quiet, 13));
    }
}

using MathNet.Numerics.Distributions;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Crm;

namespace Personalizer.Engine.Experiments;

public sealed record Interval(double Low, double High);

public sealed record ArmResult(
    string Arm,
    int Exposures,
    int Conversions,
    double ConversionRate,
    Interval ConversionRateInterval,
    double Revenue,
    double RevenuePerVisitor,
    Interval RevenuePerVisitorInterval,
    double? Uplift,
    Interval? UpliftInterval,
    double? PValue,
    double ProbabilityBest,
    double ExpectedShare);

public sealed record SampleRatioCheck(double ChiSquare, double PValue, bool Mismatch, string Message);

public sealed record ExperimentReport(string Experiment, string Slot, string Goal, string Baseline, long From, long To, double AttributionHours, IReadOnlyList<ArmResult> Arms, SampleRatioCheck? SampleRatio)
{
    /// <summary>The same results per lifecycle stage of the visitors at exposure (groups with exposures only).</summary>
    public IReadOnlyList<GroupResult> ByStage { get; init; } = [];
    /// <summary>The same results per RFM segment at exposure (<c>none</c>: visitors without orders).</summary>
    public IReadOnlyList<GroupResult> BySegment { get; init; } = [];
}

/// <summary>An experiment's arms within one group of visitors (a lifecycle stage or an RFM segment at exposure).</summary>
public sealed record GroupResult(string Group, int Exposures, IReadOnlyList<ArmResult> Arms);

/// <summary>
/// Results of an experiment run, read from its counters (see <see cref="CounterAttribution"/>): an exposed
/// visitor is one shown the slot from the experiment (the first exposure counts, with its arm); a converting
/// visitor had a goal event within <see cref="ExperimentDefinition.AttributionHours"/> after it (once);
/// revenue sums the purchases in that window. Statistics: Wilson intervals for rates, the relative uplift
/// against the baseline (the control group, else the first arm) with a delta-method interval on the log of
/// the rate ratio and a two-proportion z-test, a normal interval for revenue per visitor (from the sum of
/// squares), the probability of being best from 20,000 draws of each arm's Beta posterior, and a chi-square
/// sample-ratio check.
/// </summary>
public sealed class ExperimentResults(ICounterStore counters)
{
    private const double Z95 = 1.959963984540054;
    public const double SampleRatioAlpha = 0.001;

    public async Task<ExperimentReport> ComputeAsync(string site, ExperimentDefinition experiment, long nowMs, CancellationToken ct = default)
    {
        var key = CounterKeys.Experiment(experiment.Id, experiment.StartedAt);
        var stages = CustomerInsights.Stages;
        string[] segments = [.. CustomerInsights.Segments, CounterKeys.NoSegment];
        string[] keys = [key, .. stages.Select(g => CounterKeys.By(key, CounterKeys.ByStage, g)), .. segments.Select(g => CounterKeys.By(key, CounterKeys.BySegment, g))];
        var bags = await counters.ReadAsync(site, keys, ct).ConfigureAwait(false);
        string[] arms = [.. (experiment.ControlPercent > 0 ? [ExperimentAssignment.Control] : Array.Empty<string>()), .. experiment.Arms.Select(a => a.Id)];
        var shares = ExpectedShares(experiment, arms);
        var (results, n) = Arms(bags[0], arms, shares);
        var srm = experiment.Allocation == ExperimentAllocation.Fixed ? SampleRatio(n, shares) : null;
        List<GroupResult> Groups(string[] names, int offset)
        {
            var groups = new List<GroupResult>();
            for (var g = 0; g < names.Length; g++)
            {
                var (groupArms, exposed) = Arms(bags[offset + g], arms, shares);
                if (exposed.Sum() > 0)
                {
                    groups.Add(new GroupResult(names[g], exposed.Sum(), groupArms));
                }
            }
            return groups;
        }
        return new ExperimentReport(experiment.Id, experiment.Slot, experiment.Goal, arms[0], experiment.StartedAt, nowMs, experiment.AttributionHours, results, srm)
        {
            ByStage = Groups(stages, 1),
            BySegment = Groups(segments, 1 + stages.Length),
        };
    }

    /// <summary>Each arm's figures from one bag, the first arm (the control group when there is one) the baseline.</summary>
    private static (List<ArmResult> Arms, int[] Exposed) Arms(IReadOnlyDictionary<string, double> bag, string[] arms, double[] shares)
    {
        var n = new int[arms.Length];
        var x = new int[arms.Length];
        var revenue = new double[arms.Length];
        var revenueSquared = new double[arms.Length];
        for (var i = 0; i < arms.Length; i++)
        {
            n[i] = (int)bag.GetValueOrDefault(CounterKeys.ArmField(arms[i], CounterKeys.Exposed));
            x[i] = (int)bag.GetValueOrDefault(CounterKeys.ArmField(arms[i], CounterKeys.Converted));
            revenue[i] = Math.Round(bag.GetValueOrDefault(CounterKeys.ArmField(arms[i], CounterKeys.Revenue)), 2);
            revenueSquared[i] = bag.GetValueOrDefault(CounterKeys.ArmField(arms[i], CounterKeys.RevenueSquared));
        }
        var best = ProbabilityBest(n, x);
        const int baseline = 0;
        var results = new List<ArmResult>(arms.Length);
        for (var i = 0; i < arms.Length; i++)
        {
            var rate = n[i] == 0 ? 0 : (double)x[i] / n[i];
            double? uplift = null, p = null;
            Interval? upliftInterval = null;
            if (i != baseline && n[i] > 0 && n[baseline] > 0 && x[baseline] > 0)
            {
                var rateBase = (double)x[baseline] / n[baseline];
                uplift = rate / rateBase - 1;
                if (x[i] > 0)
                {
                    var se = Math.Sqrt((1 - rate) / x[i] + (1 - rateBase) / x[baseline]);
                    var log = Math.Log(rate / rateBase);
                    upliftInterval = new Interval(Math.Exp(log - Z95 * se) - 1, Math.Exp(log + Z95 * se) - 1);
                }
                var pooled = (double)(x[i] + x[baseline]) / (n[i] + n[baseline]);
                var sePooled = Math.Sqrt(pooled * (1 - pooled) * (1.0 / n[i] + 1.0 / n[baseline]));
                p = sePooled == 0 ? 1 : 2 * (1 - Normal.CDF(0, 1, Math.Abs(rate - rateBase) / sePooled));
            }
            results.Add(new ArmResult(arms[i], n[i], x[i], rate, Wilson(x[i], n[i]), revenue[i], n[i] == 0 ? 0 : revenue[i] / n[i],
                MeanInterval(revenue[i], revenueSquared[i], n[i]), uplift, upliftInterval, p, best[i], shares[i]));
        }
        return (results, n);
    }

    /// <summary>A normal 95% interval for the mean per visitor, from the sum and the sum of squares over n visitors.</summary>
    public static Interval MeanInterval(double sum, double sumOfSquares, int n)
    {
        if (n == 0)
        {
            return new Interval(0, 0);
        }
        var mean = sum / n;
        var variance = n > 1 ? Math.Max(0, (sumOfSquares - (n * mean * mean)) / (n - 1)) : 0;
        var half = Z95 * Math.Sqrt(variance / n);
        return new Interval(Math.Max(0, mean - half), mean + half);
    }

    public static double[] ExpectedShares(ExperimentDefinition experiment, string[] arms)
    {
        var control = experiment.ControlPercent / 100;
        var total = experiment.Arms.Sum(a => a.Weight);
        return [.. arms.Select(a => a == ExperimentAssignment.Control ? control
            : (1 - control) * experiment.Arms.First(x => x.Id == a).Weight / total)];
    }

    public static Interval Wilson(int successes, int trials)
    {
        if (trials == 0)
        {
            return new Interval(0, 1);
        }
        var p = (double)successes / trials;
        var z2 = Z95 * Z95;
        var centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
        var half = Z95 * Math.Sqrt(p * (1 - p) / trials + z2 / (4.0 * trials * trials)) / (1 + z2 / trials);
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Each arm's chance of the highest conversion rate under Beta(1 + x, 1 + n − x) posteriors (seeded: the same data gives the same figures).</summary>
    public static double[] ProbabilityBest(int[] n, int[] x, int draws = 20_000)
    {
        var random = new Random(20261123);
        var posteriors = n.Select((trials, i) => new Beta(1 + x[i], 1 + trials - x[i], random)).ToArray();
        var wins = new int[n.Length];
        var sample = new double[n.Length];
        for (var d = 0; d < draws; d++)
        {
            var top = 0;
            for (var i = 0; i < n.Length; i++)
            {
                sample[i] = posteriors[i].Sample();
                if (sample[i] > sample[top])
                {
                    top = i;
                }
            }
            wins[top]++;
        }
        return [.. wins.Select(w => (double)w / draws)];
    }

    public static SampleRatioCheck? SampleRatio(int[] observed, double[] shares)
    {
        var total = observed.Sum();
        if (total == 0 || observed.Length < 2)
        {
            return null;
        }
        var chi = 0.0;
        for (var i = 0; i < observed.Length; i++)
        {
            var expected = total * shares[i];
            chi += expected == 0 ? 0 : (observed[i] - expected) * (observed[i] - expected) / expected;
        }
        var p = 1 - ChiSquared.CDF(observed.Length - 1, chi);
        var mismatch = p < SampleRatioAlpha;
        return new SampleRatioCheck(chi, p, mismatch, mismatch
            ? $"Sample ratio mismatch: the split of exposures is off the configured weights (p = {p:G3}); check for bots, redirects or a broken variant before reading the results."
            : "The split of exposures matches the configured weights.");
    }
}

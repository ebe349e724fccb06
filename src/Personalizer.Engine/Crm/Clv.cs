using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Personalizer.Engine.Crm;

/// <summary>One customer's purchase history in the models' terms: repeat purchases, time of the last, age (same unit), mean repeat spend.</summary>
public readonly record struct CustomerSummary(double Frequency, double Recency, double Age, double MeanSpend = 0);

public sealed record BgNbdParameters(double R, double Alpha, double A, double B);

public sealed record GammaGammaParameters(double P, double Q, double V);

/// <summary>A model that cannot be fitted to the data it was given.</summary>
public sealed class ModelFitException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// BG/NBD (Fader, Hardie &amp; Lee 2005): purchases while alive follow a Poisson process with a
/// Gamma(r, α) rate; after each purchase the customer drops out with a Beta(a, b) probability.
/// Fitted by maximum likelihood (Nelder–Mead over log-parameters, so they stay positive); the
/// likelihood needs only log-gamma.
/// </summary>
public static class BgNbd
{
    public static double LogLikelihood(BgNbdParameters m, CustomerSummary c)
    {
        var (r, alpha, a, b) = (m.R, m.Alpha, m.A, m.B);
        var (x, tx, t) = (c.Frequency, c.Recency, c.Age);
        var a1 = SpecialFunctions.GammaLn(r + x) - SpecialFunctions.GammaLn(r) + r * Math.Log(alpha);
        var a2 = SpecialFunctions.GammaLn(a + b) + SpecialFunctions.GammaLn(b + x) - SpecialFunctions.GammaLn(b) - SpecialFunctions.GammaLn(a + b + x);
        var a3 = -(r + x) * Math.Log(alpha + t);
        if (x <= 0)
        {
            return a1 + a2 + a3;
        }
        var a4 = Math.Log(a) - Math.Log(b + x - 1) - (r + x) * Math.Log(alpha + tx);
        var max = Math.Max(a3, a4);
        return a1 + a2 + max + Math.Log(Math.Exp(a3 - max) + Math.Exp(a4 - max));
    }

    public static double LogLikelihood(BgNbdParameters m, IReadOnlyList<CustomerSummary> customers)
    {
        var sum = 0d;
        foreach (var c in customers)
        {
            sum += LogLikelihood(m, c);
        }
        return sum;
    }

    public static BgNbdParameters Fit(IReadOnlyList<CustomerSummary> customers)
    {
        double Objective(Vector<double> v)
        {
            var m = new BgNbdParameters(Math.Exp(v[0]), Math.Exp(v[1]), Math.Exp(v[2]), Math.Exp(v[3]));
            var ll = LogLikelihood(m, customers);
            return double.IsFinite(ll) ? -ll : double.MaxValue;
        }
        var start = Vector<double>.Build.Dense([0, Math.Log(Math.Max(1, customers.Average(c => c.Age)) / 4), 0, 0]);
        var p = Minimize(Objective, start);
        return new BgNbdParameters(Math.Exp(p[0]), Math.Exp(p[1]), Math.Exp(p[2]), Math.Exp(p[3]));
    }

    /// <summary>
    /// Nelder–Mead, restarted from its own minimum with a fresh simplex until a restart no longer
    /// improves: the BG/NBD likelihood has a long flat ridge in (a, b) where one run stops early.
    /// A run that exhausts its iterations (a likelihood still rising along a ridge towards infinite
    /// parameters, e.g. customers with nearly the same purchase rate) ends at the best point it
    /// evaluated, if that point is finite and within e^±25; otherwise the data have no usable maximum.
    /// </summary>
    internal static Vector<double> Minimize(Func<Vector<double>, double> f, Vector<double> start)
    {
        Vector<double>? bestSeen = null;
        var bestSeenValue = double.MaxValue;
        var objective = ObjectiveFunction.Value(v =>
        {
            var value = f(v);
            if (value < bestSeenValue)
            {
                bestSeenValue = value;
                bestSeen = v.Clone();
            }
            return value;
        });
        var best = start;
        var bestValue = double.MaxValue;
        for (var round = 0; round < 20; round++)
        {
            MinimizationResult result;
            try
            {
                result = new NelderMeadSimplex(1e-12, 50_000).FindMinimum(objective, best);
            }
            catch (MaximumIterationsException ex)
            {
                if (bestSeen is null || bestSeenValue >= double.MaxValue || bestSeen.Any(x => !double.IsFinite(x) || Math.Abs(x) > 25))
                {
                    throw new ModelFitException("The likelihood has no maximum on these customers; the model cannot be fitted.", ex);
                }
                return bestSeen;
            }
            var improvement = bestValue - result.FunctionInfoAtMinimum.Value;
            best = result.MinimizingPoint;
            bestValue = result.FunctionInfoAtMinimum.Value;
            if (improvement < 1e-9)
            {
                break;
            }
        }
        return best;
    }

    public static double ProbabilityAlive(BgNbdParameters m, CustomerSummary c)
    {
        if (c.Frequency <= 0)
        {
            return 1;
        }
        var ratio = Math.Exp((m.R + c.Frequency) * (Math.Log(m.Alpha + c.Age) - Math.Log(m.Alpha + c.Recency)));
        return 1 / (1 + m.A / (m.B + c.Frequency - 1) * ratio);
    }

    /// <summary>
    /// Expected purchases in the next <paramref name="horizon"/> (FHL 2005, eq. 10), with the Gauss
    /// hypergeometric function summed as a series (it converges for z &lt; 1, which holds here).
    /// </summary>
    public static double ExpectedPurchases(BgNbdParameters m, CustomerSummary c, double horizon)
    {
        var (r, alpha, a, b) = (m.R, m.Alpha, m.A, m.B);
        var (x, tx, t) = (c.Frequency, c.Recency, c.Age);
        var z = horizon / (alpha + t + horizon);
        var hyp = Hypergeometric(r + x, b + x, a + b + x - 1, z);
        var first = (a + b + x - 1) / (a - 1) * (1 - Math.Pow((alpha + t) / (alpha + t + horizon), r + x) * hyp);
        var second = x > 0 ? a / (b + x - 1) * Math.Pow((alpha + t) / (alpha + tx), r + x) : 0;
        return first / (1 + second);
    }

    private static double Hypergeometric(double a, double b, double c, double z)
    {
        double term = 1, sum = 1;
        for (var n = 0; n < 10_000 && Math.Abs(term) > 1e-14 * Math.Abs(sum); n++)
        {
            term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
            sum += term;
        }
        return sum;
    }
}

/// <summary>Gamma-Gamma spend model (Fader &amp; Hardie 2013), fitted on repeat customers' frequency and mean spend.</summary>
public static class GammaGamma
{
    public static double LogLikelihood(GammaGammaParameters m, CustomerSummary c)
    {
        var (p, q, v) = (m.P, m.Q, m.V);
        var (x, mean) = (c.Frequency, c.MeanSpend);
        return SpecialFunctions.GammaLn(p * x + q) - SpecialFunctions.GammaLn(p * x) - SpecialFunctions.GammaLn(q)
            + q * Math.Log(v) + (p * x - 1) * Math.Log(mean) + p * x * Math.Log(x) - (p * x + q) * Math.Log(x * mean + v);
    }

    public static GammaGammaParameters Fit(IReadOnlyList<CustomerSummary> customers)
    {
        var repeat = customers.Where(c => c.Frequency > 0 && c.MeanSpend > 0).ToArray();
        if (repeat.Length == 0)
        {
            throw new ArgumentException("Gamma-Gamma needs customers with repeat purchases and a positive mean spend.", nameof(customers));
        }
        double Objective(Vector<double> w)
        {
            var m = new GammaGammaParameters(Math.Exp(w[0]), Math.Exp(w[1]), Math.Exp(w[2]));
            var sum = 0d;
            foreach (var c in repeat)
            {
                sum += LogLikelihood(m, c);
            }
            return double.IsFinite(sum) ? -sum : double.MaxValue;
        }
        var pt = BgNbd.Minimize(Objective, Vector<double>.Build.Dense([0, 0, Math.Log(repeat.Average(c => c.MeanSpend))]));
        return new GammaGammaParameters(Math.Exp(pt[0]), Math.Exp(pt[1]), Math.Exp(pt[2]));
    }

    /// <summary>Expected mean spend of a customer's future transactions.</summary>
    public static double ExpectedSpend(GammaGammaParameters m, CustomerSummary c) =>
        (m.Q - 1) / (m.P * c.Frequency + m.Q - 1) * (m.V * m.P / (m.Q - 1)) + m.P * c.Frequency / (m.P * c.Frequency + m.Q - 1) * c.MeanSpend;
}

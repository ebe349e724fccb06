using System.Numerics.Tensors;

namespace Personalizer.Engine.Recommendations;

public sealed record AlsOptions(
    int Factors = 64,
    float Regularization = 0.2f,
    float Alpha = 1f,
    int Iterations = 15,
    int ConjugateGradientSteps = 3,
    int Seed = 42,
    int Threads = 0,
    bool WeightedRegularization = true);

/// <summary>
/// Implicit-feedback matrix factorization (Hu, Koren &amp; Volinsky 2008) solved by alternating least
/// squares with the conjugate-gradient step of Takács, Pilászy &amp; Tikk (2011): the system
/// (YᵀY + λI + Σᵢ (cᵤᵢ − 1) yᵢyᵢᵀ) xᵤ = Σᵢ cᵤᵢ yᵢ is never formed; each user (and item) takes a
/// few CG steps from its previous vector, with cᵤᵢ = 1 + α·rᵤᵢ. Factors are flat row-major float
/// arrays; dot products and updates go through <see cref="TensorPrimitives"/> (SIMD). Each half
/// step updates rows independently, so the result does not depend on thread scheduling: the same
/// seed gives the same model.
/// </summary>
public sealed class ImplicitAls
{
    private readonly AlsOptions _options;

    public ImplicitAls(AlsOptions options)
    {
        if (options.Factors < 1 || options.Iterations < 0 || options.ConjugateGradientSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Factors and CG steps must be positive, iterations not negative.");
        }
        _options = options;
    }

    public int Factors => _options.Factors;

    /// <summary>The loss after each iteration, for callers that want to watch convergence.</summary>
    public List<double> LossHistory { get; } = [];

    public (float[] Users, float[] Items) Train(Interactions userItems, bool trackLoss = false, CancellationToken ct = default)
    {
        var f = _options.Factors;
        var itemUsers = userItems.Transpose();
        var random = new Random(_options.Seed);
        var users = new float[userItems.Users * f];
        var items = new float[userItems.Items * f];
        for (var k = 0; k < users.Length; k++)
        {
            users[k] = (float)(random.NextDouble() * 0.01);
        }
        for (var k = 0; k < items.Length; k++)
        {
            items[k] = (float)(random.NextDouble() * 0.01);
        }
        for (var iteration = 0; iteration < _options.Iterations; iteration++)
        {
            ct.ThrowIfCancellationRequested();
            Sweep(userItems, users, items);
            Sweep(itemUsers, items, users);
            if (trackLoss)
            {
                LossHistory.Add(Loss(userItems, users, items));
            }
        }
        return (users, items);
    }

    /// <summary>
    /// The user step for one user against fixed item factors: the vector that best explains their
    /// interactions. With <paramref name="exact"/> CG runs to convergence (fold-in at request time).
    /// </summary>
    public void FoldIn(ReadOnlySpan<int> itemIndexes, ReadOnlySpan<float> weights, float[] itemFactors, float[] gram, Span<float> x, bool exact = true)
    {
        var f = _options.Factors;
        Span<float> buffers = f <= 256 ? stackalloc float[3 * f] : new float[3 * f];
        x.Clear();
        Solve(itemIndexes, weights, itemFactors, gram, x, buffers, exact ? Math.Max(f, 10) : _options.ConjugateGradientSteps);
    }

    /// <summary>YᵀY, the f × f Gram matrix of a factor matrix.</summary>
    public float[] Gram(float[] factors)
    {
        var f = _options.Factors;
        var rows = factors.Length / f;
        var gram = new float[f * f];
        var partials = new float[Environment.ProcessorCount][];
        Parallel.For(0, Environment.ProcessorCount, Parallelism(), worker =>
        {
            var local = partials[worker] = new float[f * f];
            for (var r = worker; r < rows; r += Environment.ProcessorCount)
            {
                var row = factors.AsSpan(r * f, f);
                for (var a = 0; a < f; a++)
                {
                    TensorPrimitives.MultiplyAdd(row, row[a], local.AsSpan(a * f, f), local.AsSpan(a * f, f));
                }
            }
        });
        foreach (var local in partials)
        {
            if (local is not null)
            {
                TensorPrimitives.Add(gram, local, gram);
            }
        }
        return gram;
    }

    /// <summary>Σ cᵤᵢ(pᵤᵢ − xᵤ·yᵢ)² over all pairs + λ(‖X‖² + ‖Y‖²), computed without visiting the unobserved pairs.</summary>
    public double Loss(Interactions userItems, float[] users, float[] items)
    {
        var f = _options.Factors;
        var gram = Gram(items);
        var lambda = _options.Regularization;
        double total = 0;
        var temp = new float[f];
        for (var u = 0; u < userItems.Users; u++)
        {
            var x = users.AsSpan(u * f, f);
            // Σ over all items of (x·y)² = xᵀ(YᵀY)x
            for (var a = 0; a < f; a++)
            {
                temp[a] = TensorPrimitives.Dot(gram.AsSpan(a * f, f), x);
            }
            total += TensorPrimitives.Dot(temp, x);
            var cols = userItems.ItemsOf(u);
            var vals = userItems.ValuesOf(u);
            for (var k = 0; k < cols.Length; k++)
            {
                var s = TensorPrimitives.Dot(x, items.AsSpan(cols[k] * f, f));
                var c = 1 + _options.Alpha * vals[k];
                total += c * (1 - s) * (1 - s) - s * s;
            }
        }
        if (!_options.WeightedRegularization)
        {
            return total + lambda * (TensorPrimitives.SumOfSquares(users) + TensorPrimitives.SumOfSquares(items));
        }
        var itemCounts = new int[userItems.Items];
        for (var u = 0; u < userItems.Users; u++)
        {
            total += lambda * Math.Max(1, userItems.ItemsOf(u).Length) * TensorPrimitives.SumOfSquares(users.AsSpan(u * f, f));
            foreach (var i in userItems.ItemsOf(u))
            {
                itemCounts[i]++;
            }
        }
        for (var i = 0; i < userItems.Items; i++)
        {
            total += lambda * Math.Max(1, itemCounts[i]) * TensorPrimitives.SumOfSquares(items.AsSpan(i * f, f));
        }
        return total;
    }

    private void Sweep(Interactions rows, float[] solve, float[] fixedFactors)
    {
        var f = _options.Factors;
        var gram = Gram(fixedFactors);
        var steps = _options.ConjugateGradientSteps;
        Parallel.For(0, rows.Users, Parallelism(), () => new float[3 * f], (r, _, buffers) =>
        {
            Solve(rows.ItemsOf(r), rows.ValuesOf(r), fixedFactors, gram, solve.AsSpan(r * f, f), buffers, steps);
            return buffers;
        }, static _ => { });
    }

    private ParallelOptions Parallelism() => new() { MaxDegreeOfParallelism = _options.Threads > 0 ? _options.Threads : Environment.ProcessorCount };

    /// <summary>A few CG steps on (G + λI + Σ (c−1) yyᵀ) x = Σ c y, warm-started from x.</summary>
    private void Solve(ReadOnlySpan<int> cols, ReadOnlySpan<float> vals, float[] y, float[] gram, Span<float> x, Span<float> buffers, int steps)
    {
        var f = _options.Factors;
        var alpha = _options.Alpha;
        var r = buffers[..f];
        var p = buffers.Slice(f, f);
        var ap = buffers.Slice(2 * f, f);

        // ALS-WR (Zhou et al. 2008) weighs λ by the row's interaction count: a visitor with one view
        // is regularized lightly, a heavy one (or a popular item) more.
        var lambda = _options.WeightedRegularization ? _options.Regularization * Math.Max(1, cols.Length) : _options.Regularization;

        // r = b − A x = Σ (c − (c−1)(y·x)) y − (G + λI) x
        MultiplyGram(gram, x, r, f);
        TensorPrimitives.MultiplyAdd(x, lambda, r, r);
        TensorPrimitives.Negate(r, r);
        for (var k = 0; k < cols.Length; k++)
        {
            var yi = y.AsSpan(cols[k] * f, f);
            var extra = alpha * vals[k];
            var weight = 1 + extra - extra * TensorPrimitives.Dot(yi, x);
            TensorPrimitives.MultiplyAdd(yi, weight, r, r);
        }
        r.CopyTo(p);
        var rsOld = TensorPrimitives.Dot(r, r);
        for (var step = 0; step < steps && rsOld > 1e-20f; step++)
        {
            // ap = A p
            MultiplyGram(gram, p, ap, f);
            TensorPrimitives.MultiplyAdd(p, lambda, ap, ap);
            for (var k = 0; k < cols.Length; k++)
            {
                var yi = y.AsSpan(cols[k] * f, f);
                TensorPrimitives.MultiplyAdd(yi, alpha * vals[k] * TensorPrimitives.Dot(yi, p), ap, ap);
            }
            var denominator = TensorPrimitives.Dot(p, ap);
            if (denominator <= 0)
            {
                break;
            }
            var a = rsOld / denominator;
            TensorPrimitives.MultiplyAdd(p, a, x, x);
            TensorPrimitives.MultiplyAdd(ap, -a, r, r);
            var rsNew = TensorPrimitives.Dot(r, r);
            TensorPrimitives.MultiplyAdd(p, rsNew / rsOld, r, p);
            rsOld = rsNew;
        }
    }

    private static void MultiplyGram(float[] gram, ReadOnlySpan<float> v, Span<float> result, int f)
    {
        for (var a = 0; a < f; a++)
        {
            result[a] = TensorPrimitives.Dot(gram.AsSpan(a * f, f), v);
        }
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MathNet.Numerics.LinearAlgebra;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// A published model as the request path uses it, built once per model.
/// <para>
/// <b>The Gram matrix's eigenbasis.</b> YᵀY = QΛQᵀ; item factors are kept rotated (Ỹ = YQ). Dot
/// products do not change under the rotation, so scores are the model's, but the fold-in's matrix
/// becomes Λ + λI (diagonal) plus one rank-one term per item of the visitor's history. Preconditioned
/// by that diagonal, conjugate gradients solve it exactly in about as many steps as the visitor has
/// items, each step O(f · n) instead of the O(f²) Gram product: the same user step as training, in
/// microseconds.
/// </para>
/// <para>
/// <b>8-bit item factors.</b> Each rotated item vector is also stored as signed bytes with its own
/// scale (a quarter of the floats' bytes: 10,000 items × 64 factors fit in 640 KB of L2 cache), and the
/// user vector as 16-bit integers; a SIMD multiply-add of the two gives approximate scores for the
/// whole catalogue. The best of those are scored again exactly, so what is served is ranked by exact
/// scores; approximation only decides which items get the exact look.
/// </para>
/// </summary>
public sealed class ServingIndex
{
    /// <summary>Items per block of the 8-bit layout.</summary>
    private const int Block = TopK.Block;

    /// <summary>Factor pairs per item (factors rounded up to even).</summary>
    private readonly int _stride;

    private ServingIndex(int factors, int items, float[] eigenvalues, float[] rotated, QuantizedLayout layout)
    {
        Factors = factors;
        Items = items;
        Eigenvalues = eigenvalues;
        Rotated = rotated;
        _layout = layout;
        _stride = (factors + 1) / 2;
    }

    private readonly QuantizedLayout _layout;

    public int Factors { get; }
    public int Items { get; }

    /// <summary>Λ: the Gram matrix's eigenvalues (non-negative), in the order of the rotated factors.</summary>
    public float[] Eigenvalues { get; }

    /// <summary>Item factors in the eigenbasis, items × factors.</summary>
    public float[] Rotated { get; }

    /// <summary>
    /// Items grouped by their factors, for catalogues of at least <see cref="ClusterFrom"/> items: a ranking scores only the
    /// clusters nearest the visitor (<see cref="ItemClusters"/>). Null for smaller catalogues, which are scored whole.
    /// </summary>
    public ItemClusters? Clusters { get; private set; }

    /// <summary>Catalogues from this many items on are clustered.</summary>
    public const int ClusterFrom = 4096;

    /// <summary>Bytes the index holds.</summary>
    public long Bytes => (Rotated.Length * 4L) + _layout.Bytes + (Eigenvalues.Length * 4L) + (Clusters?.Bytes ?? 0);

    public static ServingIndex Build(RecommendationModel model) => Build(model, ClusterFrom);

    /// <summary><see cref="Build(RecommendationModel)"/> clustering from <paramref name="clusterFrom"/> items on (tests take smaller catalogues).</summary>
    public static ServingIndex Build(RecommendationModel model, int clusterFrom)
    {
        var f = model.Factors;
        var items = model.ItemIds.Length;
        var gram = Matrix<double>.Build.Dense(f, f, (r, c) => model.Gram[(r * f) + c]);
        var evd = gram.Evd(Symmetricity.Symmetric);
        var q = evd.EigenVectors;
        var eigenvalues = new float[f];
        for (var k = 0; k < f; k++)
        {
            eigenvalues[k] = (float)Math.Max(0, evd.EigenValues[k].Real); // YᵀY is positive semi-definite; rounding may dip below 0
        }
        var qt = new float[f * f]; // row k = k-th eigenvector
        for (var k = 0; k < f; k++)
        {
            for (var a = 0; a < f; a++)
            {
                qt[(k * f) + a] = (float)q[a, k];
            }
        }
        var rotated = new float[items * f];
        var factors = model.ItemFactors.AsSpan();
        for (var i = 0; i < items; i++)
        {
            var y = factors.Slice(i * f, f);
            var target = rotated.AsSpan(i * f, f);
            for (var k = 0; k < f; k++)
            {
                target[k] = TensorPrimitives.Dot(qt.AsSpan(k * f, f), y);
            }
        }
        var index = new ServingIndex(f, items, eigenvalues, rotated, QuantizedLayout.Of(rotated, f, items, order: null));
        if (items >= clusterFrom)
        {
            index.Clusters = ItemClusters.Build(index, model.Regularization, model.Alpha, model.WeightedRegularization);
        }
        return index;
    }

    /// <summary>
    /// The ALS user step for a visitor's history, in the eigenbasis:
    /// (Λ + μI + Σ α wₖ ỹₖỹₖᵀ) x = Σ (1 + α wₖ) ỹₖ, μ = λ (times the history's length for ALS-WR),
    /// by conjugate gradients preconditioned with Λ + μI.
    /// </summary>
    public void FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> weights, float regularization, float alpha, bool weighted, Span<float> x, Span<float> buffers)
    {
        var f = Factors;
        var mu = weighted ? regularization * Math.Max(1, items.Length) : regularization;
        var r = buffers[..f];
        var z = buffers.Slice(f, f);
        var p = buffers.Slice(2 * f, f);
        var ap = buffers.Slice(3 * f, f);
        var diagonal = buffers.Slice(4 * f, f);
        TensorPrimitives.Add(Eigenvalues, mu, diagonal);
        x.Clear();
        r.Clear();
        for (var k = 0; k < items.Length; k++)
        {
            TensorPrimitives.MultiplyAdd(Rotated.AsSpan(items[k] * f, f), 1 + (alpha * weights[k]), r, r);
        }
        var tolerance = 1e-12f * Math.Max(TensorPrimitives.Dot(r, r), 1e-30f);
        TensorPrimitives.Divide(r, diagonal, z);
        z.CopyTo(p);
        var rz = TensorPrimitives.Dot(r, z);
        // Exact in n + 1 steps in exact arithmetic (identity plus rank n after preconditioning); a few more for rounding.
        var steps = Math.Min(f, items.Length + 4);
        for (var step = 0; step < steps; step++)
        {
            TensorPrimitives.Multiply(diagonal, p, ap);
            for (var k = 0; k < items.Length; k++)
            {
                var y = Rotated.AsSpan(items[k] * f, f);
                TensorPrimitives.MultiplyAdd(y, alpha * weights[k] * TensorPrimitives.Dot(y, p), ap, ap);
            }
            var denominator = TensorPrimitives.Dot(p, ap);
            if (denominator <= 0)
            {
                break;
            }
            var a = rz / denominator;
            TensorPrimitives.MultiplyAdd(p, a, x, x);
            TensorPrimitives.MultiplyAdd(ap, -a, r, r);
            if (TensorPrimitives.Dot(r, r) <= tolerance)
            {
                break;
            }
            TensorPrimitives.Divide(r, diagonal, z);
            var rzNew = TensorPrimitives.Dot(r, z);
            TensorPrimitives.MultiplyAdd(p, rzNew / rz, z, p);
            rz = rzNew;
        }
    }

    /// <summary>Floats <see cref="FoldIn"/> needs as scratch.</summary>
    public int BufferLength => 5 * Factors;

    /// <summary>The exact score of one item for a user vector in the eigenbasis.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Score(ReadOnlySpan<float> user, int item) => TensorPrimitives.Dot(user, Rotated.AsSpan(item * Factors, Factors));

    /// <summary>Exact scores of every item.</summary>
    public void ScoreAll(ReadOnlySpan<float> user, Span<float> scores)
    {
        for (var i = 0; i < Items; i++)
        {
            scores[i] = Score(user, i);
        }
    }

    /// <summary>Blocks of <see cref="TopK.Block"/> items: the length of the maxima the approximate scores come with.</summary>
    public int Blocks => (Items + Block - 1) / Block;

    /// <summary>Approximate scores of every item (<see cref="ScoreApproximate(ReadOnlySpan{float}, Span{float}, Span{float})"/> without the maxima).</summary>
    public void ScoreApproximate(ReadOnlySpan<float> user, Span<float> scores)
    {
        var maxima = System.Buffers.ArrayPool<float>.Shared.Rent(Blocks);
        ScoreApproximate(user, scores, maxima);
        System.Buffers.ArrayPool<float>.Shared.Return(maxima);
    }

    /// <summary>
    /// Approximate scores of every item from the 8-bit factors (exact ones where no SIMD is available), and
    /// each block's highest score into <paramref name="maxima"/> (length <see cref="Blocks"/>).
    /// </summary>
    public void ScoreApproximate(ReadOnlySpan<float> user, Span<float> scores, Span<float> maxima)
    {
        if (!Avx2.IsSupported)
        {
            ScoreAll(user, scores);
            TopK.BlockMaxima(scores[..Items], maxima);
            return;
        }
        Span<int> pairs = stackalloc int[_stride];
        if (!UserPairs(user, pairs, out var userScale))
        {
            scores[..Items].Clear();
            maxima[..Blocks].Clear();
            return;
        }
        Kernel(_layout, pairs, userScale, scores, maxima, 0, Blocks);
    }

    /// <summary>
    /// The user vector as 16-bit integers, each factor pair as one 32-bit lane (what the kernel multiplies with);
    /// false for a zero vector. 127 × 32767 × f stays inside 32 bits.
    /// </summary>
    internal bool UserPairs(ReadOnlySpan<float> user, Span<int> pairs, out float userScale)
    {
        var max = MathF.Abs(TensorPrimitives.MaxMagnitude(user));
        userScale = max / 32767f;
        if (max == 0)
        {
            return false;
        }
        for (var p = 0; p < _stride; p++)
        {
            var low = (short)MathF.Round(user[2 * p] / userScale);
            var high = (2 * p) + 1 < Factors ? (short)MathF.Round(user[(2 * p) + 1] / userScale) : (short)0;
            pairs[p] = (ushort)low | (high << 16);
        }
        return true;
    }

    /// <summary>Factor pairs per item: the length of <see cref="UserPairs"/>' span.</summary>
    internal int Stride => _stride;

    /// <summary>
    /// Approximate scores of the layout's blocks [<paramref name="fromBlock"/>, <paramref name="toBlock"/>) into
    /// <paramref name="scores"/> (by layout position) and each block's highest into <paramref name="maxima"/>. AVX2 at least.
    /// </summary>
    internal static void Kernel(QuantizedLayout layout, ReadOnlySpan<int> pairs, float userScale, Span<float> scores, Span<float> maxima, int fromBlock, int toBlock)
    {
        if (Avx512BW.IsSupported)
        {
            Score512(layout, pairs, userScale, scores, maxima, fromBlock, toBlock);
        }
        else
        {
            Score256(layout, pairs, userScale, scores, maxima, fromBlock, toBlock);
        }
    }

    private static unsafe void Score512(QuantizedLayout layout, ReadOnlySpan<int> pairs, float userScale, Span<float> scores, Span<float> maxima, int fromBlock, int toBlock)
    {
        var stride = pairs.Length;
        Span<float> last = stackalloc float[Block];
        Span<Vector512<short>> broadcast = stackalloc Vector512<short>[stride];
        for (var p = 0; p < stride; p++)
        {
            broadcast[p] = Vector512.Create(pairs[p]).AsInt16();
        }
        fixed (sbyte* q = layout.Quantized)
        fixed (Vector512<short>* u = broadcast)
        fixed (float* scale = layout.Scales)
        fixed (float* output = scores)
        {
            var source = q + ((long)fromBlock * stride * 2 * Block);
            for (var b = fromBlock; b < toBlock; b++)
            {
                var acc = Vector512<int>.Zero;
                for (var p = 0; p < stride; p++, source += 2 * Block)
                {
                    acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(source)), u[p]);
                }
                var result = Vector512.ConvertToSingle(acc) * Vector512.Load(scale + (b * Block)) * userScale;
                if ((b + 1) * Block <= layout.Count)
                {
                    result.Store(output + (b * Block));
                    maxima[b] = TopK.MaxOf(result);
                }
                else
                {
                    result.CopyTo(last);
                    StoreLastBlock(layout.Count, last, b, scores, maxima);
                }
            }
        }
    }

    /// <summary>A last block shorter than <see cref="Block"/>: the scores it has, out of the kernel's full-width result, and their maximum.</summary>
    private static void StoreLastBlock(int count, ReadOnlySpan<float> last, int b, Span<float> scores, Span<float> maxima)
    {
        var tail = last[..(count - (b * Block))];
        tail.CopyTo(scores[(b * Block)..]);
        maxima[b] = TensorPrimitives.Max(tail);
    }

    private static unsafe void Score256(QuantizedLayout layout, ReadOnlySpan<int> pairs, float userScale, Span<float> scores, Span<float> maxima, int fromBlock, int toBlock)
    {
        var stride = pairs.Length;
        Span<float> last = stackalloc float[Block];
        fixed (sbyte* q = layout.Quantized)
        fixed (int* u = pairs)
        fixed (float* scale = layout.Scales)
        fixed (float* output = scores)
        {
            var source = q + ((long)fromBlock * stride * 2 * Block);
            for (var b = fromBlock; b < toBlock; b++)
            {
                var low = Vector256<int>.Zero;
                var high = Vector256<int>.Zero;
                for (var p = 0; p < stride; p++, source += 2 * Block)
                {
                    var pair = Vector256.Create(u[p]).AsInt16();
                    low += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(source)), pair);
                    high += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(source + Block)), pair);
                }
                var first = Vector256.ConvertToSingle(low) * Vector256.Load(scale + (b * Block)) * userScale;
                var second = Vector256.ConvertToSingle(high) * Vector256.Load(scale + (b * Block) + 8) * userScale;
                if ((b + 1) * Block <= layout.Count)
                {
                    // The block's maximum while its scores are in registers: no second pass over the scores.
                    first.Store(output + (b * Block));
                    second.Store(output + (b * Block) + 8);
                    maxima[b] = TopK.MaxOf(Vector256.Max(first, second));
                }
                else
                {
                    first.CopyTo(last);
                    second.CopyTo(last[8..]);
                    StoreLastBlock(layout.Count, last, b, scores, maxima);
                }
            }
        }
    }
}

/// <summary>
/// Rotated item factors as signed bytes, each item with its own scale, in blocks of <see cref="TopK.Block"/> items: within
/// a block, for each pair of factors (2p, 2p + 1), the 16 items' two bytes side by side. One 32-byte load holds a factor
/// pair of 16 items, what a 16-bit multiply-add of adjacent pairs takes, and the block's 16 scores accumulate in one
/// vector without horizontal sums. Position p of the layout holds item <c>order[p]</c> (item p without an order).
/// </summary>
internal sealed class QuantizedLayout(sbyte[] quantized, float[] scales, int count)
{
    public sbyte[] Quantized { get; } = quantized;
    public float[] Scales { get; } = scales;
    public int Count { get; } = count;
    public long Bytes => Quantized.Length + (Scales.Length * 4L);

    public static QuantizedLayout Of(float[] rotated, int f, int items, int[]? order)
    {
        const int block = TopK.Block;
        var pairs = (f + 1) / 2;
        var blocks = (items + block - 1) / block;
        var quantized = new sbyte[blocks * pairs * block * 2];
        var scales = new float[blocks * block];
        for (var position = 0; position < items; position++)
        {
            var item = order is null ? position : order[position];
            var row = rotated.AsSpan(item * f, f);
            var max = MathF.Abs(TensorPrimitives.MaxMagnitude(row));
            var scale = max > 0 ? max / 127f : 1f;
            scales[position] = scale;
            var start = (position / block) * pairs * block * 2;
            var slot = position % block;
            for (var k = 0; k < f; k++)
            {
                quantized[start + ((k / 2) * block * 2) + (slot * 2) + (k % 2)] = (sbyte)Math.Clamp(MathF.Round(row[k] / scale), -127, 127);
            }
        }
        return new QuantizedLayout(quantized, scales, items);
    }
}

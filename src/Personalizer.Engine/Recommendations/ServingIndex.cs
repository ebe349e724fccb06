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

    private ServingIndex(int factors, int items, float[] eigenvalues, float[] rotated, sbyte[] quantized, float[] scales, int stride)
    {
        Factors = factors;
        Items = items;
        Eigenvalues = eigenvalues;
        Rotated = rotated;
        Quantized = quantized;
        Scales = scales;
        _stride = stride;
    }

    public int Factors { get; }
    public int Items { get; }

    /// <summary>Λ: the Gram matrix's eigenvalues (non-negative), in the order of the rotated factors.</summary>
    public float[] Eigenvalues { get; }

    /// <summary>Item factors in the eigenbasis, items × factors.</summary>
    public float[] Rotated { get; }

    internal sbyte[] Quantized { get; }
    internal float[] Scales { get; }

    /// <summary>Bytes the index holds.</summary>
    public long Bytes => (Rotated.Length * 4L) + Quantized.Length + (Scales.Length * 4L) + (Eigenvalues.Length * 4L);

    public static ServingIndex Build(RecommendationModel model)
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
        // Blocks of 16 items; within a block, for each pair of factors (2p, 2p + 1), the 16 items' two bytes
        // side by side: one 32-byte load holds a factor pair of 16 items, what a 16-bit multiply-add of
        // adjacent pairs takes, and the block's 16 scores accumulate in one vector without horizontal sums.
        var pairs = (f + 1) / 2;
        var blocks = (items + Block - 1) / Block;
        var quantized = new sbyte[blocks * pairs * Block * 2];
        var scales = new float[blocks * Block];
        for (var i = 0; i < items; i++)
        {
            var row = rotated.AsSpan(i * f, f);
            var max = MathF.Abs(TensorPrimitives.MaxMagnitude(row));
            var scale = max > 0 ? max / 127f : 1f;
            scales[i] = scale;
            var block = (i / Block) * pairs * Block * 2;
            var slot = i % Block;
            for (var k = 0; k < f; k++)
            {
                quantized[block + ((k / 2) * Block * 2) + (slot * 2) + (k % 2)] = (sbyte)Math.Clamp(MathF.Round(row[k] / scale), -127, 127);
            }
        }
        var stride = pairs;
        return new ServingIndex(f, items, eigenvalues, rotated, quantized, scales, stride);
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
        var max = MathF.Abs(TensorPrimitives.MaxMagnitude(user));
        if (max == 0)
        {
            scores[..Items].Clear();
            maxima[..Blocks].Clear();
            return;
        }
        // The user vector as 16-bit integers, each factor pair as one 32-bit lane repeated; 127 × 32767 × f stays inside 32 bits.
        var userScale = max / 32767f;
        Span<int> pairs = stackalloc int[_stride];
        for (var p = 0; p < _stride; p++)
        {
            var low = (short)MathF.Round(user[2 * p] / userScale);
            var high = (2 * p) + 1 < Factors ? (short)MathF.Round(user[(2 * p) + 1] / userScale) : (short)0;
            pairs[p] = (ushort)low | (high << 16);
        }
        if (Avx512BW.IsSupported)
        {
            Score512(pairs, userScale, scores, maxima);
        }
        else
        {
            Score256(pairs, userScale, scores, maxima);
        }
    }

    private unsafe void Score512(ReadOnlySpan<int> pairs, float userScale, Span<float> scores, Span<float> maxima)
    {
        var blocks = (Items + Block - 1) / Block;
        Span<float> last = stackalloc float[Block];
        Span<Vector512<short>> broadcast = stackalloc Vector512<short>[_stride];
        for (var p = 0; p < _stride; p++)
        {
            broadcast[p] = Vector512.Create(pairs[p]).AsInt16();
        }
        fixed (sbyte* q = Quantized)
        fixed (Vector512<short>* u = broadcast)
        fixed (float* scale = Scales)
        fixed (float* output = scores)
        {
            var source = q;
            for (var b = 0; b < blocks; b++)
            {
                var acc = Vector512<int>.Zero;
                for (var p = 0; p < _stride; p++, source += 2 * Block)
                {
                    acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(source)), u[p]);
                }
                var result = Vector512.ConvertToSingle(acc) * Vector512.Load(scale + (b * Block)) * userScale;
                if ((b + 1) * Block <= Items)
                {
                    result.Store(output + (b * Block));
                    maxima[b] = TopK.MaxOf(result);
                }
                else
                {
                    result.CopyTo(last);
                    StoreLastBlock(last, b, scores, maxima);
                }
            }
        }
    }

    /// <summary>A last block shorter than <see cref="Block"/>: the scores it has, out of the kernel's full-width result, and their maximum.</summary>
    private void StoreLastBlock(ReadOnlySpan<float> last, int b, Span<float> scores, Span<float> maxima)
    {
        var tail = last[..(Items - (b * Block))];
        tail.CopyTo(scores[(b * Block)..]);
        maxima[b] = TensorPrimitives.Max(tail);
    }

    private unsafe void Score256(ReadOnlySpan<int> pairs, float userScale, Span<float> scores, Span<float> maxima)
    {
        var blocks = (Items + Block - 1) / Block;
        Span<float> last = stackalloc float[Block];
        fixed (sbyte* q = Quantized)
        fixed (int* u = pairs)
        fixed (float* scale = Scales)
        fixed (float* output = scores)
        {
            var source = q;
            for (var b = 0; b < blocks; b++)
            {
                var low = Vector256<int>.Zero;
                var high = Vector256<int>.Zero;
                for (var p = 0; p < _stride; p++, source += 2 * Block)
                {
                    var pair = Vector256.Create(u[p]).AsInt16();
                    low += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(source)), pair);
                    high += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(source + Block)), pair);
                }
                var first = Vector256.ConvertToSingle(low) * Vector256.Load(scale + (b * Block)) * userScale;
                var second = Vector256.ConvertToSingle(high) * Vector256.Load(scale + (b * Block) + 8) * userScale;
                if ((b + 1) * Block <= Items)
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
                    StoreLastBlock(last, b, scores, maxima);
                }
            }
        }
    }
}

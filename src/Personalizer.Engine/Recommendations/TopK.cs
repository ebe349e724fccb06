using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Personalizer.Engine.Recommendations;

/// <summary>Top-k selection over a score array with a small min-heap: O(n log k), no allocation.</summary>
public static class TopK
{
    /// <summary>Fills <paramref name="result"/> with the indexes of the highest finite scores, best first; returns how many.</summary>
    public static int Select(ReadOnlySpan<float> scores, Span<int> result)
    {
        var k = result.Length;
        var count = 0;
        var i = 0;
        for (; i < scores.Length && count < k; i++)
        {
            var s = scores[i];
            if (float.IsNegativeInfinity(s) || float.IsNaN(s))
            {
                continue;
            }
            result[count] = i;
            SiftUp(scores, result, count++);
        }
        if (count == k && k > 0)
        {
            // Full: only a score above the heap's least enters (NaN and −∞ never do); one comparison per item.
            var least = scores[result[0]];
            for (; i < scores.Length; i++)
            {
                if (scores[i] > least)
                {
                    result[0] = i;
                    SiftDown(scores, result, 0, k);
                    least = scores[result[0]];
                }
            }
        }
        // Heap sort the kept ones, best first.
        for (var end = count - 1; end > 0; end--)
        {
            (result[0], result[end]) = (result[end], result[0]);
            SiftDown(scores, result, 0, end);
        }
        return count;
    }

    /// <summary>Scores per block of <see cref="AtLeast(ReadOnlySpan{float}, ReadOnlySpan{float}, int, Span{int})"/>'s block maxima.</summary>
    public const int Block = 16;

    /// <summary>
    /// The indexes of at least <paramref name="count"/> of the best finite scores (all of them when there are fewer),
    /// in index order, into <paramref name="result"/> (as long as <paramref name="scores"/>); returns how many. Cheaper
    /// than <see cref="Select"/> for a few hundred of many thousands: the scores are cut in blocks of 16, the
    /// count-th best block maximum is a threshold that at least count scores reach, and one pass keeps those.
    /// </summary>
    public static int AtLeast(ReadOnlySpan<float> scores, int count, Span<int> result)
    {
        var blocks = (scores.Length + Block - 1) / Block;
        var maxima = System.Buffers.ArrayPool<float>.Shared.Rent(blocks);
        try
        {
            BlockMaxima(scores, maxima.AsSpan(0, blocks));
            return AtLeast(scores, maxima.AsSpan(0, blocks), count, result);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(maxima);
        }
    }

    /// <summary>
    /// <see cref="AtLeast(ReadOnlySpan{float}, int, Span{int})"/> given each block's maximum (block b holds scores
    /// [16b, 16b + 16)); a maximum may be higher than its block's true one only at the cost of more candidates, never lower.
    /// </summary>
    public static int AtLeast(ReadOnlySpan<float> scores, ReadOnlySpan<float> maxima, int count, Span<int> result) =>
        Above(scores, Threshold(maxima, count), result);

    /// <summary>
    /// A value that at least <paramref name="count"/> of the finite <paramref name="values"/> reach (−∞ when there are
    /// no more than that many; +∞ for a count of 0), close to the count-th largest: a bisection of the values' range,
    /// each step a SIMD count of the values at or above the middle. A few hundred values are counted in tens of
    /// cycles, so the whole search costs less than one scalar pass that reorders or buckets them.
    /// </summary>
    public static float Threshold(ReadOnlySpan<float> values, int count)
    {
        if (count <= 0)
        {
            return float.PositiveInfinity;
        }
        var min = float.PositiveInfinity;
        var max = float.NegativeInfinity;
        var finite = 0;
        foreach (var v in values)
        {
            if (float.IsFinite(v))
            {
                finite++;
                min = v < min ? v : min;
                max = v > max ? v : max;
            }
        }
        if (finite <= count)
        {
            return float.NegativeInfinity;
        }
        // low is always reached by at least count values; high, unless it is the maximum, by fewer.
        var low = min;
        var high = max;
        if (CountAtLeast(values, high) >= count)
        {
            return high;
        }
        for (var step = 0; step < 32; step++)
        {
            var middle = low + ((high - low) * 0.5f);
            if (middle <= low || middle >= high)
            {
                break; // adjacent floats: nothing left between them
            }
            var reached = CountAtLeast(values, middle);
            if (reached >= count)
            {
                low = middle;
                if (reached <= count + (count / 8) + 1)
                {
                    break; // close enough: a few more candidates cost less than more steps
                }
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    /// <summary>How many values are at or above <paramref name="threshold"/> (NaN never is).</summary>
    private static int CountAtLeast(ReadOnlySpan<float> values, float threshold)
    {
        var n = 0;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var t = Vector512.Create(threshold);
            ref var first = ref MemoryMarshal.GetReference(values);
            for (; i + Vector512<float>.Count <= values.Length; i += Vector512<float>.Count)
            {
                n += System.Numerics.BitOperations.PopCount(Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref first, (nuint)i), t).ExtractMostSignificantBits());
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var t = Vector256.Create(threshold);
            ref var first = ref MemoryMarshal.GetReference(values);
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                n += System.Numerics.BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref first, (nuint)i), t).ExtractMostSignificantBits());
            }
        }
        for (; i < values.Length; i++)
        {
            n += values[i] >= threshold ? 1 : 0;
        }
        return n;
    }

    /// <summary>The indexes of the finite scores at or above <paramref name="threshold"/>, in index order; returns how many.</summary>
    public static int Above(ReadOnlySpan<float> scores, float threshold, Span<int> result)
    {
        var n = 0;
        var i = 0;
        // A finite threshold: −∞ and NaN fail the vector comparison by themselves.
        if (!float.IsNegativeInfinity(threshold))
        {
            ref var first = ref MemoryMarshal.GetReference(scores);
            if (Vector512.IsHardwareAccelerated)
            {
                var t = Vector512.Create(threshold);
                for (; i + Vector512<float>.Count <= scores.Length; i += Vector512<float>.Count)
                {
                    Collect(Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref first, (nuint)i), t).ExtractMostSignificantBits(), i, result, ref n);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var t = Vector256.Create(threshold);
                for (; i + Vector256<float>.Count <= scores.Length; i += Vector256<float>.Count)
                {
                    Collect(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref first, (nuint)i), t).ExtractMostSignificantBits(), i, result, ref n);
                }
            }
        }
        for (; i < scores.Length; i++)
        {
            var s = scores[i];
            if (s >= threshold && !float.IsNegativeInfinity(s) && !float.IsNaN(s))
            {
                result[n++] = i;
            }
        }
        return n;
    }

    /// <summary>The lanes set in <paramref name="mask"/> as indexes from <paramref name="offset"/>, in order.</summary>
    private static void Collect(ulong mask, int offset, Span<int> result, ref int n)
    {
        while (mask != 0)
        {
            result[n++] = offset + System.Numerics.BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
        }
    }

    /// <summary>
    /// Moves the <paramref name="n"/> highest <paramref name="keys"/> (with their <paramref name="values"/>) to the
    /// front, highest first; the rest is left in some order. Quickselect, then a sort of the front only.
    /// NaN keys count as −∞. Returns how many are in front: n, or all when there are fewer.
    /// </summary>
    public static int Best(Span<float> keys, Span<int> values, int n)
    {
        n = Math.Min(n, keys.Length);
        if (n <= 0)
        {
            return 0;
        }
        for (var i = 0; i < keys.Length; i++)
        {
            // Negated: ascending order of the negation is descending order of the keys (NaN as −∞, so last).
            keys[i] = float.IsNaN(keys[i]) ? float.PositiveInfinity : -keys[i];
        }
        var low = 0;
        var high = keys.Length - 1;
        var target = n - 1;
        while (low < high)
        {
            var pivot = Median(keys[low], keys[low + ((high - low) / 2)], keys[high]);
            var i = low - 1;
            var j = high + 1;
            while (true)
            {
                do
                {
                    i++;
                }
                while (keys[i] < pivot);
                do
                {
                    j--;
                }
                while (keys[j] > pivot);
                if (i >= j)
                {
                    break;
                }
                (keys[i], keys[j]) = (keys[j], keys[i]);
                (values[i], values[j]) = (values[j], values[i]);
            }
            if (target <= j)
            {
                high = j;
            }
            else
            {
                low = j + 1;
            }
        }
        keys[..n].Sort(values[..n]);
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = -keys[i];
        }
        return n;
    }

    private static float Median(float a, float b, float c) => a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));

    /// <summary>Each block's highest score (a partial last block: of the scores it has).</summary>
    public static void BlockMaxima(ReadOnlySpan<float> scores, Span<float> maxima)
    {
        var whole = scores.Length / Block;
        var b = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ref var first = ref MemoryMarshal.GetReference(scores);
            for (; b < whole; b++)
            {
                // A NaN makes its block's maximum NaN, which counts as −∞: the threshold only gets safer.
                maxima[b] = MaxOf(Vector512.LoadUnsafe(ref first, (nuint)(b * Block)));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            ref var first = ref MemoryMarshal.GetReference(scores);
            for (; b < whole; b++)
            {
                maxima[b] = MaxOf(Vector256.Max(
                    Vector256.LoadUnsafe(ref first, (nuint)(b * Block)),
                    Vector256.LoadUnsafe(ref first, (nuint)((b * Block) + 8))));
            }
        }
        for (; b * Block < scores.Length; b++)
        {
            var max = float.NegativeInfinity;
            foreach (var s in scores.Slice(b * Block, Math.Min(Block, scores.Length - (b * Block))))
            {
                max = s > max ? s : max;
            }
            maxima[b] = max;
        }
    }

    /// <summary>The highest of 16 lanes.</summary>
    public static float MaxOf(Vector512<float> v) => MaxOf(Vector256.Max(v.GetLower(), v.GetUpper()));

    /// <summary>The highest of 8 lanes (a NaN lane may or may not win; callers treat a NaN maximum as −∞).</summary>
    public static float MaxOf(Vector256<float> half)
    {
        var quarter = Vector128.Max(half.GetLower(), half.GetUpper());
        var pair = Vector128.Max(quarter, Vector128.Shuffle(quarter, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(pair.GetElement(0), pair.GetElement(1));
    }

    private static bool Less(ReadOnlySpan<float> s, int a, int b) => s[a] < s[b] || (s[a] == s[b] && a > b);

    private static void SiftUp(ReadOnlySpan<float> s, Span<int> h, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Less(s, h[i], h[parent]))
            {
                break;
            }
            (h[i], h[parent]) = (h[parent], h[i]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> s, Span<int> h, int i, int n)
    {
        while (true)
        {
            var l = 2 * i + 1;
            var smallest = i;
            if (l < n && Less(s, h[l], h[smallest]))
            {
                smallest = l;
            }
            if (l + 1 < n && Less(s, h[l + 1], h[smallest]))
            {
                smallest = l + 1;
            }
            if (smallest == i)
            {
                return;
            }
            (h[i], h[smallest]) = (h[smallest], h[i]);
            i = smallest;
        }
    }
}

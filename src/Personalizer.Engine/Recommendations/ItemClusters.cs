using System.Numerics.Tensors;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// An inverted-file index over a model's rotated item factors, for large catalogues: the items are grouped by
/// k-means, laid out cluster after cluster in the 8-bit layout, and a ranking scores only the clusters whose
/// centroid scores best for the visitor (<see cref="PersonalizedScoring.Rank"/>); the candidates they yield are
/// then scored exactly, as with the whole catalogue.
/// <para>
/// <b>How many clusters a ranking takes</b> is measured when the index is built, not guessed: visitors made up
/// from the catalogue (histories of one to eight items, drawn uniformly and by the size of their factors) are
/// ranked exactly, and <see cref="Probe"/> is the fewest clusters, in their centroid's order, that hold
/// <see cref="TargetRecall"/> of those visitors' best <see cref="CalibrationDepth"/> items.
/// </para>
/// </summary>
public sealed class ItemClusters
{
    /// <summary>The share of the calibration visitors' best items the probed clusters must hold.</summary>
    public const double TargetRecall = 0.995;

    /// <summary>How deep each calibration visitor's exact ranking is counted: a list, its reserve and room for filters.</summary>
    public const int CalibrationDepth = 32;

    private const int CalibrationVisitors = 256;
    private const int Iterations = 10;

    private readonly float[] _centroids;
    private readonly int[] _start;
    private readonly int _factors;

    private ItemClusters(int count, int factors, float[] centroids, int[] start, int[] itemAt, QuantizedLayout layout)
    {
        Count = count;
        _factors = factors;
        _centroids = centroids;
        _start = start;
        ItemAt = itemAt;
        Layout = layout;
        PositionOf = new int[itemAt.Length];
        for (var p = 0; p < itemAt.Length; p++)
        {
            PositionOf[itemAt[p]] = p;
        }
    }

    /// <summary>Clusters.</summary>
    public int Count { get; }

    /// <summary>Clusters a ranking scores at least (more when they hold too few items for the candidates asked).</summary>
    public int Probe { get; private set; }

    /// <summary>The share of the calibration visitors' best items that <see cref="Probe"/> clusters held.</summary>
    public double CalibratedRecall { get; private set; }

    /// <summary>The items of the probed clusters, on average over the calibration visitors, as a share of the catalogue.</summary>
    public double ScoredShare { get; private set; }

    /// <summary>The 8-bit factors in cluster order.</summary>
    internal QuantizedLayout Layout { get; }

    /// <summary>Layout position → item index.</summary>
    internal int[] ItemAt { get; }

    /// <summary>Item index → layout position.</summary>
    internal int[] PositionOf { get; }

    public long Bytes => Layout.Bytes + (_centroids.Length * 4L) + (_start.Length * 4L) + (ItemAt.Length * 8L);

    /// <summary>Clusters for <paramref name="index"/>'s items; the fold-in's settings are the model's, for the calibration visitors.</summary>
    internal static ItemClusters Build(ServingIndex index, float regularization, float alpha, bool weighted)
    {
        var f = index.Factors;
        var n = index.Items;
        var rotated = index.Rotated;
        var count = Math.Clamp((int)Math.Round(Math.Sqrt(n)), 8, 1024);
        var random = new Random(17);

        // k-means (Lloyd), started from distinct random items.
        var centroids = new float[count * f];
        var shuffled = new int[n];
        for (var i = 0; i < n; i++)
        {
            shuffled[i] = i;
        }
        random.Shuffle(shuffled);
        for (var c = 0; c < count; c++)
        {
            rotated.AsSpan(shuffled[c] * f, f).CopyTo(centroids.AsSpan(c * f, f));
        }
        var assignment = new int[n];
        Array.Fill(assignment, -1);
        var halfNorms = new float[count];
        var sums = new float[count * f];
        var sizes = new int[count];
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            for (var c = 0; c < count; c++)
            {
                var centroid = centroids.AsSpan(c * f, f);
                halfNorms[c] = 0.5f * TensorPrimitives.Dot(centroid, centroid);
            }
            var changed = 0;
            for (var i = 0; i < n; i++)
            {
                // The nearest centroid: the least ½‖μ‖² − v·μ.
                var v = rotated.AsSpan(i * f, f);
                var best = 0;
                var least = float.PositiveInfinity;
                for (var c = 0; c < count; c++)
                {
                    var distance = halfNorms[c] - TensorPrimitives.Dot(v, centroids.AsSpan(c * f, f));
                    if (distance < least)
                    {
                        least = distance;
                        best = c;
                    }
                }
                if (assignment[i] != best)
                {
                    assignment[i] = best;
                    changed++;
                }
            }
            if (changed == 0)
            {
                break;
            }
            Array.Clear(sums);
            Array.Clear(sizes);
            for (var i = 0; i < n; i++)
            {
                TensorPrimitives.Add(sums.AsSpan(assignment[i] * f, f), rotated.AsSpan(i * f, f), sums.AsSpan(assignment[i] * f, f));
                sizes[assignment[i]]++;
            }
            for (var c = 0; c < count; c++)
            {
                if (sizes[c] > 0) // an empty cluster keeps its centroid
                {
                    TensorPrimitives.Divide(sums.AsSpan(c * f, f), sizes[c], centroids.AsSpan(c * f, f));
                }
            }
        }

        // Items cluster after cluster, in item order within one.
        Array.Clear(sizes);
        foreach (var c in assignment)
        {
            sizes[c]++;
        }
        var start = new int[count + 1];
        for (var c = 0; c < count; c++)
        {
            start[c + 1] = start[c] + sizes[c];
        }
        var next = start[..count];
        var itemAt = new int[n];
        for (var i = 0; i < n; i++)
        {
            itemAt[next[assignment[i]]++] = i;
        }
        var clusters = new ItemClusters(count, f, centroids, start, itemAt, QuantizedLayout.Of(rotated, f, n, itemAt));
        clusters.Calibrate(index, assignment, regularization, alpha, weighted, random);
        return clusters;
    }

    /// <summary>
    /// Marks in <paramref name="chosen"/> (one byte per layout block) the blocks of the clusters whose centroid scores best
    /// for <paramref name="user"/>: <see cref="Probe"/> of them, and more until they hold <paramref name="minItems"/> items.
    /// A block shared by two clusters is scored whole: its other items are real items with real scores.
    /// </summary>
    internal void Choose(ReadOnlySpan<float> user, int minItems, Span<byte> chosen)
    {
        Span<float> keys = stackalloc float[Count];
        for (var c = 0; c < Count; c++)
        {
            keys[c] = TensorPrimitives.Dot(user, _centroids.AsSpan(c * _factors, _factors));
        }
        // About Probe clusters at once: every centroid at or above the Probe-th best's threshold.
        var threshold = TopK.Threshold(keys, Probe);
        var items = 0;
        for (var c = 0; c < Count; c++)
        {
            if (keys[c] >= threshold)
            {
                items += Mark(c, chosen);
            }
        }
        if (items >= minItems)
        {
            return;
        }
        // Too few items for the candidates asked (small clusters): the next nearest, in order, until there are.
        Span<int> order = stackalloc int[Count];
        for (var c = 0; c < Count; c++)
        {
            order[c] = c;
            keys[c] = keys[c] >= threshold ? float.PositiveInfinity : -keys[c];
        }
        keys.Sort(order);
        for (var k = 0; k < Count && items < minItems; k++)
        {
            if (!float.IsPositiveInfinity(keys[k]))
            {
                items += Mark(order[k], chosen);
            }
        }
    }

    /// <summary>Marks cluster <paramref name="c"/>'s blocks; returns its items.</summary>
    private int Mark(int c, Span<byte> chosen)
    {
        var size = _start[c + 1] - _start[c];
        if (size > 0)
        {
            chosen[(_start[c] / TopK.Block)..(((_start[c + 1] - 1) / TopK.Block) + 1)].Fill(1);
        }
        return size;
    }

    private void Calibrate(ServingIndex index, int[] assignment, float regularization, float alpha, bool weighted, Random random)
    {
        var f = index.Factors;
        var n = index.Items;
        var scores = new float[n];
        var user = new float[f];
        var buffers = new float[index.BufferLength];
        var top = new int[Math.Min(CalibrationDepth, n)];
        var history = new int[8];
        var weights = new float[8];
        Array.Fill(weights, 1f);
        // Drawing by the size of an item's factors favours the items many visitors touched.
        var cumulative = new double[n];
        var sum = 0d;
        for (var i = 0; i < n; i++)
        {
            var y = index.Rotated.AsSpan(i * f, f);
            sum += TensorPrimitives.Dot(y, y);
            cumulative[i] = sum;
        }
        var rankOf = new int[Count];
        var keys = new float[Count];
        var order = new int[Count];
        var held = new long[Count]; // best items whose cluster was the r-th in the probe order
        var itemsUpTo = new long[Count]; // items of the first r + 1 clusters in the probe order, summed over the visitors
        var total = 0L;
        for (var q = 0; q < CalibrationVisitors; q++)
        {
            var length = 1 + random.Next(history.Length);
            for (var k = 0; k < length; k++)
            {
                var at = Array.BinarySearch(cumulative, random.NextDouble() * sum);
                history[k] = q % 2 == 0 || sum <= 0 ? random.Next(n) : Math.Min(n - 1, at >= 0 ? at : ~at);
            }
            index.FoldIn(history.AsSpan(0, length), weights.AsSpan(0, length), regularization, alpha, weighted, user, buffers);
            index.ScoreAll(user, scores);
            var found = TopK.Select(scores, top);
            for (var c = 0; c < Count; c++)
            {
                keys[c] = -TensorPrimitives.Dot(user, _centroids.AsSpan(c * f, f));
                order[c] = c;
            }
            Array.Sort(keys, order);
            var upTo = 0L;
            for (var r = 0; r < Count; r++)
            {
                rankOf[order[r]] = r;
                upTo += _start[order[r] + 1] - _start[order[r]];
                itemsUpTo[r] += upTo;
            }
            for (var k = 0; k < found; k++)
            {
                held[rankOf[assignment[top[k]]]]++;
            }
            total += found;
        }
        var kept = 0L;
        Probe = Count;
        CalibratedRecall = 1;
        for (var r = 0; r < Count; r++)
        {
            kept += held[r];
            if (total == 0 || kept >= TargetRecall * total)
            {
                Probe = r + 1;
                CalibratedRecall = total == 0 ? 1 : (double)kept / total;
                break;
            }
        }
        ScoredShare = (double)itemsUpTo[Probe - 1] / ((double)CalibrationVisitors * n);
    }
}

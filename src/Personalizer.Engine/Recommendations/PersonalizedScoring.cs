using System.Buffers;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// The visitor's user vector and scores, as served and as evaluated: the ALS user step over the
/// visitor's whole item history (every view, click, cart addition and purchased line, weighted as
/// training weighs them) against the published item factors. That is the vector training itself
/// would give the visitor against these factors, plus whatever happened since, so a known visitor
/// and a new one are served by the same exact solve.
/// </summary>
public static class PersonalizedScoring
{
    /// <summary>The most entries <see cref="History"/> can write for the visitor.</summary>
    public static int Capacity(VisitorProfile profile) => profile.Items.Count > 0
        ? profile.Items.Count
        // A profile written before item histories were kept: its bounded lists are all there is.
        : profile.RecentlyViewed.Count + profile.Cart.Count + profile.PurchasedItems.Count;

    /// <summary>
    /// Writes the visitor's item indexes and weights (repeated interactions add up, as in training)
    /// into the spans, sized by <see cref="Capacity"/>; returns how many were written (items the model knows).
    /// </summary>
    public static int History(RecommendationModel model, VisitorProfile profile, InteractionWeights w, Span<int> indexes, Span<float> weights)
    {
        var n = 0;
        if (profile.Items.Count > 0)
        {
            foreach (var t in profile.Items)
            {
                if (model.ItemIndex.TryGetValue(t.ItemId, out var index))
                {
                    indexes[n] = index;
                    weights[n++] = (t.Views * w.View) + (t.Clicks * w.Click) + (t.Carts * w.AddToCart) + (t.Purchases * w.Purchase);
                }
            }
            return n;
        }
        foreach (var v in profile.RecentlyViewed)
        {
            Add(model, v.ItemId, w.View, indexes, weights, ref n);
        }
        foreach (var line in profile.Cart)
        {
            Add(model, line.ItemId, w.AddToCart, indexes, weights, ref n);
        }
        foreach (var id in profile.PurchasedItems)
        {
            Add(model, id, w.Purchase, indexes, weights, ref n);
        }
        return n;
    }

    /// <summary>
    /// The visitor's user vector in the model's eigenbasis (<see cref="ServingIndex"/>): the ALS user step over
    /// their whole history. False when the visitor has nothing the model knows.
    /// </summary>
    public static bool UserVector(RecommendationModel model, VisitorProfile profile, InteractionWeights w, Span<float> user)
    {
        var count = Capacity(profile);
        if (count == 0)
        {
            return false;
        }
        Span<int> indexes = count <= 512 ? stackalloc int[count] : new int[count];
        Span<float> weights = count <= 512 ? stackalloc float[count] : new float[count];
        var n = History(model, profile, w, indexes, weights);
        if (n == 0)
        {
            return false;
        }
        var serving = model.Serving;
        Span<float> buffers = serving.BufferLength <= 1024 ? stackalloc float[serving.BufferLength] : new float[serving.BufferLength];
        serving.FoldIn(indexes[..n], weights[..n], model.Regularization, model.Alpha, model.WeightedRegularization, user, buffers);
        return true;
    }

    /// <summary>
    /// Exact scores of every item of the model for the visitor into <paramref name="scores"/> (length: the
    /// model's items); purchased items get −∞ when <paramref name="excludePurchased"/>. Returns false
    /// when the visitor has nothing the model knows.
    /// </summary>
    public static bool Score(RecommendationModel model, VisitorProfile profile, InteractionWeights w, bool excludePurchased, Span<float> scores)
    {
        Span<float> user = model.Factors <= 256 ? stackalloc float[model.Factors] : new float[model.Factors];
        if (!UserVector(model, profile, w, user))
        {
            return false;
        }
        ScoreAll(model, profile, user, excludePurchased, scores);
        return true;
    }

    /// <summary>Exact scores of every item for a user vector; purchased items get −∞ when <paramref name="excludePurchased"/>.</summary>
    public static void ScoreAll(RecommendationModel model, VisitorProfile profile, ReadOnlySpan<float> user, bool excludePurchased, Span<float> scores)
    {
        model.Serving.ScoreAll(user, scores);
        if (excludePurchased)
        {
            ExcludePurchased(model, profile, scores);
        }
    }

    /// <summary>Places of the ranking kept beyond the list's length, for filters (stock, the rule's conditions …) to take.</summary>
    public const int Reserve = 10;

    /// <summary>
    /// How many of the ranking a list of <paramref name="count"/> asks for: the list, a reserve for the usual
    /// filters, and room for what the visitor has in the cart or viewed recently (purchased items never rank).
    /// A caller whose filters leave the list short ranks the whole catalogue (<see cref="ScoreAll"/>).
    /// </summary>
    public static int Wanted(RecommendationModel model, VisitorProfile profile, int count) =>
        Math.Min(model.ItemIds.Length, count + Reserve + profile.Cart.Count + profile.RecentlyViewed.Count);

    /// <summary>
    /// The <paramref name="top"/>.Length best items for a user vector, best first, ranked by exact scores:
    /// approximate scores of the whole catalogue choose the candidates (at least twice as many, and 32 more),
    /// which are then scored exactly. On return <paramref name="scores"/> holds exact scores for the candidates
    /// (approximate ones elsewhere, −∞ for purchased items when asked). Returns how many were found.
    /// </summary>
    public static int Rank(RecommendationModel model, VisitorProfile profile, ReadOnlySpan<float> user, bool excludePurchased, Span<float> scores, Span<int> top)
    {
        var serving = model.Serving;
        var items = model.ItemIds.Length;
        var blocks = serving.Blocks;
        var maxima = ArrayPool<float>.Shared.Rent(blocks);
        var candidates = ArrayPool<int>.Shared.Rent(items);
        try
        {
            serving.ScoreApproximate(user, scores, maxima);
            if (excludePurchased && ExcludePurchased(model, profile, scores))
            {
                // A bought item may have been its block's best: those blocks' maxima again, without it.
                TopK.BlockMaxima(scores[..items], maxima.AsSpan(0, blocks));
            }
            // Every item at least as good, by approximate score, as the best (2k + 32) items' weakest block.
            var found = TopK.AtLeast(scores[..items], maxima.AsSpan(0, blocks), (2 * top.Length) + 32, candidates);
            var exact = ArrayPool<float>.Shared.Rent(found);
            try
            {
                for (var k = 0; k < found; k++)
                {
                    var s = serving.Score(user, candidates[k]);
                    scores[candidates[k]] = s;
                    exact[k] = s;
                }
                var n = TopK.Best(exact.AsSpan(0, found), candidates.AsSpan(0, found), top.Length);
                candidates.AsSpan(0, n).CopyTo(top);
                return n;
            }
            finally
            {
                ArrayPool<float>.Shared.Return(exact);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(candidates);
            ArrayPool<float>.Shared.Return(maxima);
        }
    }

    /// <summary>Purchased items to −∞; true when there were any.</summary>
    public static bool ExcludePurchased(RecommendationModel model, VisitorProfile profile, Span<float> scores)
    {
        var any = false;
        foreach (var t in profile.Items)
        {
            if (t.Purchases > 0 && model.ItemIndex.TryGetValue(t.ItemId, out var index))
            {
                scores[index] = float.NegativeInfinity;
                any = true;
            }
        }
        if (profile.Items.Count == 0)
        {
            foreach (var id in profile.PurchasedItems)
            {
                if (model.ItemIndex.TryGetValue(id, out var index))
                {
                    scores[index] = float.NegativeInfinity;
                    any = true;
                }
            }
        }
        return any;
    }

    private static void Add(RecommendationModel model, string itemId, float weight, Span<int> indexes, Span<float> weights, ref int n)
    {
        if (!model.ItemIndex.TryGetValue(itemId, out var index))
        {
            return;
        }
        for (var k = 0; k < n; k++)
        {
            if (indexes[k] == index)
            {
                weights[k] += weight;
                return;
            }
        }
        indexes[n] = index;
        weights[n++] = weight;
    }
}

using System.Numerics.Tensors;
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
    /// Scores every item of the model for the visitor into <paramref name="scores"/> (length: the
    /// model's items); purchased items get −∞ when <paramref name="excludePurchased"/>. Returns false
    /// when the visitor has nothing the model knows.
    /// </summary>
    public static bool Score(RecommendationModel model, VisitorProfile profile, InteractionWeights w, bool excludePurchased, Span<float> scores)
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
        var f = model.Factors;
        Span<float> user = f <= 256 ? stackalloc float[f] : new float[f];
        new ImplicitAls(new AlsOptions(f, model.Regularization, model.Alpha, WeightedRegularization: model.WeightedRegularization))
            .FoldIn(indexes[..n], weights[..n], model.ItemFactors, model.Gram, user);
        var factors = model.ItemFactors.AsSpan();
        for (var i = 0; i < model.ItemIds.Length; i++)
        {
            scores[i] = TensorPrimitives.Dot(user, factors.Slice(i * f, f));
        }
        if (excludePurchased)
        {
            foreach (var t in profile.Items)
            {
                if (t.Purchases > 0 && model.ItemIndex.TryGetValue(t.ItemId, out var index))
                {
                    scores[index] = float.NegativeInfinity;
                }
            }
        }
        return true;
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

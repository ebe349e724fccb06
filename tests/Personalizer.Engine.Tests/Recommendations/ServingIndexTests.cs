using System.Numerics.Tensors;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Xunit.Abstractions;

namespace Personalizer.Engine.Tests.Recommendations;

public sealed class ServingIndexTests(ITestOutputHelper output)
{
    /// <summary>A model trained on planted groups: 2,000 items, 64 factors (the service's item count scaled down, its factor count scaled up).</summary>
    private static RecommendationModel Trained(out List<TrackedEvent> events)
    {
        var ratings = SyntheticData.Generate(users: 1500, items: 2000, interactions: 30000, seed: 11, groups: 25);
        events = [.. ratings.Select((r, k) => new TrackedEvent
        {
            EventId = "e-" + k, Type = EventType.ProductView, VisitorId = r.User, ItemId = r.Item, Timestamp = 1_000_000 + k,
        })];
        return new ModelTrainer(new RecommendationOptions { Factors = 64, Iterations = 8, Seed = 5 }).TrainOn("t", events)!;
    }

    private static VisitorProfile[] Profiles(List<TrackedEvent> events, int count)
    {
        var profiles = new Dictionary<string, VisitorProfile>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!profiles.TryGetValue(e.VisitorId, out var p))
            {
                if (profiles.Count == count)
                {
                    continue;
                }
                profiles[e.VisitorId] = p = new VisitorProfile { VisitorId = e.VisitorId };
            }
            ProfileFolder.Fold(p, e, Catalog.CatalogSnapshot.Empty, new FoldSettings());
        }
        return [.. profiles.Values];
    }

    [Fact]
    public void FoldingInInTheEigenbasisGivesTheDenseUserStepsScores()
    {
        var model = Trained(out var events);
        var weights = new InteractionWeights();
        var als = new ImplicitAls(new AlsOptions(model.Factors, model.Regularization, model.Alpha, WeightedRegularization: model.WeightedRegularization));
        foreach (var profile in Profiles(events, 100))
        {
            var n = PersonalizedScoring.Capacity(profile);
            var indexes = new int[n];
            var w = new float[n];
            n = PersonalizedScoring.History(model, profile, weights, indexes, w);
            var dense = new float[model.Factors];
            als.FoldIn(indexes.AsSpan(0, n), w.AsSpan(0, n), model.ItemFactors, model.Gram, dense);
            var expected = new float[model.ItemIds.Length];
            for (var i = 0; i < expected.Length; i++)
            {
                expected[i] = TensorPrimitives.Dot(dense, model.ItemFactors.AsSpan(i * model.Factors, model.Factors));
            }

            var served = new float[expected.Length];
            Assert.True(PersonalizedScoring.Score(model, profile, weights, excludePurchased: false, served));

            var scale = MathF.Abs(TensorPrimitives.MaxMagnitude(expected));
            for (var i = 0; i < served.Length; i++)
            {
                Assert.True(Math.Abs(served[i] - expected[i]) <= 1e-3 * scale, $"{profile.VisitorId}, item {i}: {served[i]} vs {expected[i]}");
            }
        }
    }

    [Fact]
    public void TheApproximateRankingKeepsRecallAt10AboveNinetyEightPercentOfExactScoring()
    {
        var model = Trained(out var events);
        var weights = new InteractionWeights();
        var items = model.ItemIds.Length;
        double recall = 0, approximateOnly = 0;
        var profiles = Profiles(events, 500);
        foreach (var profile in profiles)
        {
            var exact = new float[items];
            Assert.True(PersonalizedScoring.Score(model, profile, weights, excludePurchased: true, exact));
            var truth = new int[10];
            TopK.Select(exact, truth);

            var user = new float[model.Factors];
            Assert.True(PersonalizedScoring.UserVector(model, profile, weights, user));
            var scores = new float[items];
            var top = new int[10];
            Assert.Equal(10, PersonalizedScoring.Rank(model, profile, user, excludePurchased: true, scores, top));
            recall += top.Intersect(truth).Count() / 10.0;
            // The served order is by exact scores.
            for (var k = 1; k < 10; k++)
            {
                Assert.True(model.Serving.Score(user, top[k - 1]) >= model.Serving.Score(user, top[k]));
            }

            var approximate = new float[items];
            model.Serving.ScoreApproximate(user, approximate);
            PersonalizedScoring.ExcludePurchased(model, profile, approximate);
            var byApproximation = new int[10];
            TopK.Select(approximate, byApproximation);
            approximateOnly += byApproximation.Intersect(truth).Count() / 10.0;
        }
        recall /= profiles.Length;
        approximateOnly /= profiles.Length;

        output.WriteLine($"recall@10 {recall:F4}; 8-bit scores alone {approximateOnly:F4}");
        Assert.True(recall >= 0.98, $"recall@10 {recall:F4} (8-bit scores alone: {approximateOnly:F4})");
        // The exact re-ranking is what carries it: 8-bit scores alone reorder near-ties.
        Assert.True(recall >= approximateOnly, $"re-ranked {recall:F4} vs 8-bit alone {approximateOnly:F4}");
    }
}

public sealed class TopKTests
{
    private static float[] Awkward(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (i % 11) switch
            {
                0 => float.NegativeInfinity,
                1 => float.NaN,
                2 => 0.5f, // many ties
                _ => (float)random.NextDouble(),
            };
        }
        return values;
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(116, 625)]
    [InlineData(50, 1001)]
    [InlineData(300, 300)]
    [InlineData(600, 625)]
    public void AThresholdIsReachedByAtLeastCountValuesAndIsNoHigherThanTheCountthLargest(int count, int length)
    {
        var values = Awkward(length, count + length);
        var finite = values.Where(float.IsFinite).OrderDescending().ToArray();

        var threshold = TopK.Threshold(values, count);

        if (finite.Length <= count)
        {
            Assert.Equal(float.NegativeInfinity, threshold);
            return;
        }
        Assert.True(threshold <= finite[count - 1], $"{threshold} above the {count}-th largest {finite[count - 1]}");
        // Close to it: no more than one bucket of the histogram's worth of extra values on this spread.
        var reached = finite.Count(v => v >= threshold);
        Assert.InRange(reached, count, count + Math.Max(8, length / 16));
    }

    [Fact]
    public void AThresholdOfEqualValuesIsThatValue()
    {
        Assert.Equal(2f, TopK.Threshold([2f, 2f, 2f, 2f], 2));
        Assert.Equal(float.PositiveInfinity, TopK.Threshold([1f, 2f], 0));
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(42, 130)]
    [InlineData(22, 22)]
    [InlineData(30, 10)]
    public void BestPutsTheHighestKeysFirstInOrderWithTheirValues(int n, int length)
    {
        var keys = Awkward(length, n * length);
        var values = Enumerable.Range(0, length).ToArray();
        var original = keys.ToArray();
        var expected = values.OrderByDescending(i => float.IsNaN(original[i]) ? float.NegativeInfinity : original[i]).Take(n)
            .Select(i => float.IsNaN(original[i]) ? float.NegativeInfinity : original[i]).ToArray();

        var front = TopK.Best(keys, values, n);

        Assert.Equal(Math.Min(n, length), front);
        Assert.Equal(expected, values.Take(front).Select(i => float.IsNaN(original[i]) ? float.NegativeInfinity : original[i]));
        // Every value is still there once, and each key still belongs to its value.
        Assert.Equal(Enumerable.Range(0, length), values.Order());
        for (var k = 0; k < front; k++)
        {
            Assert.Equal(float.IsNaN(original[values[k]]) ? float.NegativeInfinity : original[values[k]], float.IsNaN(keys[k]) ? float.NegativeInfinity : keys[k]);
        }
    }

    [Fact]
    public void AtLeastKeepsEveryScoreAsGoodAsTheCountthBestOnAnyOrderOfBlocks()
    {
        var random = new Random(3);
        foreach (var ascending in new[] { false, true })
        {
            // Ascending: every block beats the last, the order that made a heap select slowest.
            var scores = Enumerable.Range(0, 10_007).Select(i => ascending ? i + (float)random.NextDouble() : (float)random.NextDouble()).ToArray();
            scores[17] = float.NegativeInfinity;
            var found = new int[scores.Length];
            var n = TopK.AtLeast(scores, 116, found);
            var cut = scores.OrderDescending().ElementAt(115);
            Assert.True(n >= 116, $"{n} candidates");
            var kept = found.Take(n).ToHashSet();
            for (var i = 0; i < scores.Length; i++)
            {
                if (scores[i] >= cut)
                {
                    Assert.Contains(i, kept);
                }
            }
        }
    }
}

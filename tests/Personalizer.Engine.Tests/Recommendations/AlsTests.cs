using System.Numerics.Tensors;
using CsCheck;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Strategies;
using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Tests.Recommendations;

public sealed class AlsTests
{
    private static readonly AlsOptions Small = new(Factors: 16, Regularization: 0.2f, Alpha: 1, Iterations: 10, Seed: 7);

    private static Interactions Planted(out List<Rating> ratings)
    {
        ratings = SyntheticData.Generate(users: 400, items: 200, interactions: 8000, seed: 3, groups: 8);
        var users = ratings.Select(r => r.User).Distinct().Select((u, i) => (u, i)).ToDictionary(x => x.u, x => x.i);
        var items = ratings.Select(r => r.Item).Distinct().Select((it, i) => (it, i)).ToDictionary(x => x.it, x => x.i);
        return Interactions.From(users.Count, items.Count, ratings.Select(r => (users[r.User], items[r.Item], 1f)));
    }

    [Fact]
    public void APlantedLowRankStructureIsRecovered()
    {
        Planted(out var ratings);
        var evaluation = new OfflineEvaluation(ratings, 0.25, seed: 42, k: 10);

        var als = evaluation.Als(Small);
        var popularity = evaluation.Popularity();
        var random = ratings.Count * 0.25 / evaluation.UserCount / evaluation.ItemCount;

        Assert.True(als.Precision > 8 * random, $"ALS precision {als.Precision:F3} vs random {random:F3}");
        Assert.True(als.Precision > 1.5 * popularity.Precision, $"ALS {als.Precision:F3} vs popularity {popularity.Precision:F3}");
    }

    [Fact]
    public void TheServedPathRecoversThePlantedStructureAndNeverListsABoughtItem()
    {
        Planted(out var ratings);
        var evaluation = new OfflineEvaluation(ratings, 0.25, seed: 42, k: 10);
        var options = new RecommendationOptions { Factors = 16, Iterations = 10, Seed = 7 };

        var served = ServedEvaluation.Run(evaluation, options);
        var popularity = evaluation.Popularity();

        Assert.True(served.Precision > 1.5 * popularity.Precision, $"served {served.Precision:F3} vs popularity {popularity.Precision:F3}");

        // The scorer the strategy calls, on a profile folded from the same purchases: nothing bought comes back.
        var model = new ModelTrainer(options).TrainOn("t", ServedEvaluation.PurchaseEvents(evaluation))!;
        var profile = new VisitorProfile { VisitorId = evaluation.UserIds[0] };
        foreach (var e in ServedEvaluation.PurchaseEvents(evaluation).Where(e => e.VisitorId == profile.VisitorId))
        {
            ProfileFolder.Fold(profile, e, CatalogSnapshot.Empty, new FoldSettings());
        }
        var scores = new float[model.ItemIds.Length];
        Assert.True(PersonalizedScoring.Score(model, profile, options.Weights, excludePurchased: true, scores));
        var top = new int[10];
        var n = TopK.Select(scores, top);
        Assert.Equal(10, n);
        Assert.All(top, i => Assert.False(profile.HasPurchased(model.ItemIds[i])));
    }

    [Fact]
    public void TheLossDecreasesEveryIteration()
    {
        var data = Planted(out _);
        var als = new ImplicitAls(Small);

        als.Train(data, trackLoss: true);

        Assert.Equal(Small.Iterations, als.LossHistory.Count);
        for (var i = 1; i < als.LossHistory.Count; i++)
        {
            Assert.True(als.LossHistory[i] < als.LossHistory[i - 1], $"iteration {i}: {als.LossHistory[i]} after {als.LossHistory[i - 1]}");
        }
    }

    [Fact]
    public void FoldingInAKnownUserReproducesTheTrainedVector()
    {
        var data = Planted(out _);
        var als = new ImplicitAls(Small with { ConjugateGradientSteps = 6, Iterations = 15 });
        var (users, items) = als.Train(data);
        var gram = als.Gram(items);
        var f = Small.Factors;

        for (var u = 0; u < 20; u++)
        {
            var folded = new float[f];
            als.FoldIn(data.ItemsOf(u), data.ValuesOf(u), items, gram, folded);
            var trained = users.AsSpan(u * f, f);
            Assert.True(TensorPrimitives.CosineSimilarity(folded, trained) > 0.98, $"user {u}: cosine {TensorPrimitives.CosineSimilarity(folded, trained)}");
        }
    }

    [Fact]
    public void TrainingIsDeterministicForASeed()
    {
        var data = Planted(out _);

        var (u1, i1) = new ImplicitAls(Small).Train(data);
        var (u2, i2) = new ImplicitAls(Small).Train(data);

        Assert.Equal(u1, u2);
        Assert.Equal(i1, i2);
    }

    [Fact]
    public void TopKSelectsTheBestInOrder()
    {
        Gen.Float[-100, 100].Array[0, 300].Sample(scores =>
        {
            var top = new int[10];
            var n = TopK.Select(scores, top);
            var expected = scores.Select((s, i) => (s, i)).OrderByDescending(x => x.s).ThenBy(x => x.i).Take(10).Select(x => x.s).ToArray();
            return n == expected.Length && top[..n].Select(i => scores[i]).SequenceEqual(expected);
        });
    }

    [Fact]
    public void FiltersAreAlwaysHonoured()
    {
        var categories = new[] { "a", "b", "c", "d" };
        var catalog = new CatalogSnapshot(Enumerable.Range(0, 60).Select(i => new CatalogItem
        {
            Id = $"i{i}", Title = "x", Categories = [categories[i % 4]], InStock = i % 7 != 0,
        }));
        var gen = Gen.Select(Gen.Int[0, 59].Array[0, 10], Gen.Int[0, 59].Array[0, 5], Gen.Int[0, 3].Array[0, 2], Gen.Int[0, 3], Gen.Int[1, 20]);
        gen.Sample((purchased, cart, excluded, maxPer, count) =>
        {
            var profile = new VisitorProfile
            {
                VisitorId = "v",
                PurchasedItems = [.. purchased.Select(i => $"i{i}")],
                Cart = [.. cart.Select(i => new CartLine { ItemId = $"i{i}", Quantity = 1 })],
                Preferences = new VisitorPreferences { ExcludedCategories = [.. excluded.Select(c => categories[c])] },
            };
            var slot = new SlotDefinition { Id = "s", Kind = SlotKind.Recommendations, Count = count, Filters = new RecommendationFilters { MaxPerCategory = maxPer } };
            var context = new DecisionContext
            {
                Site = "s", VisitorId = "v", Profile = profile, Request = RequestContext.Empty,
                Configuration = SiteConfiguration.Empty, Catalog = catalog, NowMs = 0,
            };
            var ranked = catalog.All.Select((item, k) => new ScoredItem(item.Id, 60 - k)).ToArray();
            var items = RecommendationFilter.Apply(ranked, context, slot);
            RecommendationFilter.FillFromCatalog(items, context, slot);
            return items.Count <= count
                && items.All(r => r.Item.InStock)
                && items.All(r => !profile.PurchasedItems.Contains(r.Item.Id))
                && items.All(r => !profile.Cart.Any(c => c.ItemId == r.Item.Id))
                && items.All(r => !profile.Preferences.ExcludedCategories.Contains(r.Item.Categories[0]))
                && items.Select(r => r.Item.Id).Distinct().Count() == items.Count
                && (maxPer == 0 || items.GroupBy(r => r.Item.Categories[0]).All(g => g.Count() <= maxPer));
        });
    }
}

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Recommendations;

public sealed class RecommendationsApiTests : IAsyncLifetime, IDisposable
{
    private static readonly string[] Categories = ["running", "hiking", "yoga", "cycling", "swimming", "camping", "fitness", "apparel"];

    private readonly PersonalizerApp _app = new(settings: new() { ["Personalizer:Recommendations:TrainIntervalMinutes"] = "0" });
    private HttpClient _site = null!;
    private HttpClient _admin = null!;

    public Task InitializeAsync()
    {
        _site = _app.Client(PersonalizerApp.SiteKey);
        _admin = _app.Client(PersonalizerApp.AdminKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _app.Dispose();

    /// <summary>Shoppers who each stay within one category, so the model learns the categories.</summary>
    private async Task<string> TrainOnCategoryShoppers()
    {
        var events = new List<string>();
        for (var v = 0; v < 160; v++)
        {
            var category = Categories[v % Categories.Length][..3];
            for (var k = 0; k < 6; k++)
            {
                var item = $"sku-{category}-{(v * 7 + k * 5) % 40 + 1:D3}";
                events.Add(ProductView($"s{v}-{k}", $"shopper-{v}", item));
            }
        }
        foreach (var chunk in events.Chunk(400))
        {
            await _site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }
        var trained = await _admin.PostAsync("/v1/models/train?wait=true", null);
        Assert.Equal(HttpStatusCode.OK, trained.StatusCode);
        return (await trained.Json()).GetProperty("version").GetString()!;
    }

    private async Task<List<JsonElement>> Recommend(string visitor, int count = 8, string strategy = "personalized", string? item = null)
    {
        var url = $"/v1/recommendations/{visitor}?strategy={strategy}&count={count}" + (item is null ? "" : $"&itemId={item}");
        var body = await (await _site.GetAsync(url)).Json();
        return [.. body.GetProperty("items").EnumerateArray()];
    }

    [Fact]
    public async Task RecommendationsFollowTheVisitorsLatestViewsWithoutARetrain()
    {
        var version = await TrainOnCategoryShoppers();

        await _site.SendEvents(ProductView("f1", "fresh", "sku-yog-002"), ProductView("f2", "fresh", "sku-yog-011"), ProductView("f3", "fresh", "sku-yog-023"));
        var decided = await (await _site.PostJson("/v1/decide", """{"visitorId":"fresh","slots":["home-recs"]}""")).Json();
        var recs = decided.GetProperty("slots").GetProperty("home-recs");
        Assert.Equal($"recs:{version}", recs.GetProperty("source").GetString());
        // home-recs allows at most 3 per category: the three best are yoga.
        Assert.Equal(3, recs.GetProperty("items").EnumerateArray().Count(i => i.GetProperty("categories")[0].GetString() == "yoga"));

        var unrestricted = await Recommend("fresh");
        Assert.True(unrestricted.Count(i => i.GetProperty("categories")[0].GetString() == "yoga") >= 6, string.Join(", ", unrestricted.Select(i => i.GetProperty("itemId").GetString())));

        // Then the visitor looks at hiking gear: the very next answer moves.
        await _site.SendEvents([.. Enumerable.Range(0, 8).Select(k => ProductView($"h{k}", "fresh", $"sku-hik-{k * 4 + 1:D3}"))]);
        var moved = await Recommend("fresh");
        Assert.True(moved.Count(i => i.GetProperty("categories")[0].GetString() == "hiking") >= 4, string.Join(", ", moved.Select(i => i.GetProperty("itemId").GetString())));
    }

    [Fact]
    public async Task WhenFiltersTakeMoreThanTheReserveTheModelsNextBestStillFillTheList()
    {
        await TrainOnCategoryShoppers();
        await _site.SendEvents(ProductView("f1", "picky", "sku-yog-002"), ProductView("f2", "picky", "sku-yog-011"), ProductView("f3", "picky", "sku-yog-023"));
        var ranking = (await Recommend("picky", 40)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        Assert.All(ranking, id => Assert.StartsWith("sku-", id));

        // The model's 20 best go out of stock: more than the list of 4, its reserve and the recently viewed.
        foreach (var id in ranking.Take(20))
        {
            var patch = await _admin.PatchAsync($"/v1/catalog/items/{id}", new StringContent("""{"inStock":false}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }
        var body = await (await _site.GetAsync("/v1/recommendations/picky?strategy=personalized&count=4")).Json();

        // Still the model's order (not trending's top-up): the next four of the ranking.
        Assert.StartsWith("recs:", body.GetProperty("source").GetString());
        Assert.Equal(ranking.Skip(20).Take(4), body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!));
    }

    [Fact]
    public async Task AnAskWithNothingNewInTheHistoryIsServedFromTheKeptRankingWithTheFiltersAppliedAfresh()
    {
        await TrainOnCategoryShoppers();
        var cache = _app.Services.GetRequiredService<Engine.Recommendations.RankingCache>();
        await _site.SendEvents(ProductView("f1", "again", "sku-cam-002"), ProductView("f2", "again", "sku-cam-013"));
        var first = (await Recommend("again", 6)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        var (hits, misses) = (cache.Hits, cache.Misses);

        // A decide in between changes the profile (its impression), not its item history.
        await _site.PostJson("/v1/decide", """{"visitorId":"again","slots":["home-hero"]}""");
        var second = (await Recommend("again", 6)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        Assert.Equal(first, second);
        Assert.Equal(hits + 1, cache.Hits);

        // Stock is a filter, applied to the kept ranking on every ask.
        await _admin.PatchAsync($"/v1/catalog/items/{first[0]}", new StringContent("""{"inStock":false}""", System.Text.Encoding.UTF8, "application/json"));
        var third = (await Recommend("again", 6)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        Assert.Equal(first.Skip(1), third.Take(5));
        Assert.Equal(hits + 2, cache.Hits);

        // A new view is new history: scored afresh.
        await _site.SendEvents(ProductView("f3", "again", "sku-fit-004"));
        var fourth = (await Recommend("again", 6)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        Assert.Equal(hits + 2, cache.Hits);
        Assert.True(cache.Misses > misses);
        Assert.Contains(fourth, id => id.StartsWith("sku-fit-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APurchasedItemNeverComesBack()
    {
        await TrainOnCategoryShoppers();
        await _site.SendEvents(ProductView("f1", "buyer", "sku-cyc-002"), ProductView("f2", "buyer", "sku-cyc-003"));
        var first = (await Recommend("buyer", 20)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
        var bought = first[0];

        await _site.SendEvents($$"""{"eventId":"p1","type":"purchase","visitorId":"buyer","orderId":"o1","lines":[{"itemId":"{{bought}}","quantity":1,"price":10}]}""");

        foreach (var strategy in new[] { "personalized", "trending", "recently_viewed" })
        {
            Assert.DoesNotContain(bought, (await Recommend("buyer", 40, strategy)).Select(i => i.GetProperty("itemId").GetString()));
        }
        var decided = await (await _site.PostJson("/v1/decide", """{"visitorId":"buyer","slots":["home-recs","pdp-similar"]}""")).Json();
        foreach (var slot in decided.GetProperty("slots").EnumerateObject())
        {
            Assert.DoesNotContain(bought, slot.Value.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()));
        }
    }

    [Fact]
    public async Task EveryItemEverBoughtStaysOutHoweverManyOrdersFollowed()
    {
        await TrainOnCategoryShoppers();
        // 150 orders of one item each, far past the 100 the profile lists as recent purchases.
        var bought = new List<string>();
        var orders = new List<string>();
        for (var k = 0; k < 150; k++)
        {
            var item = $"sku-{Categories[k % Categories.Length][..3]}-{k / Categories.Length + 1:D3}";
            bought.Add(item);
            orders.Add($$"""{"eventId":"o{{k}}","type":"purchase","visitorId":"collector","orderId":"o{{k}}","lines":[{"itemId":"{{item}}","quantity":1,"price":10}]}""");
        }
        foreach (var chunk in orders.Chunk(50))
        {
            await _site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }

        foreach (var strategy in new[] { "personalized", "trending" })
        {
            var recommended = (await Recommend("collector", 50, strategy)).Select(i => i.GetProperty("itemId").GetString()!).ToList();
            Assert.NotEmpty(recommended);
            Assert.Empty(recommended.Intersect(bought));
        }
        var profile = await (await _admin.GetAsync("/v1/profiles/collector")).Json();
        Assert.Equal(150, profile.GetProperty("orders").GetInt32());
    }

    [Fact]
    public async Task TrainingIsAJobFollowedUntilItsModelIsPublished()
    {
        await _site.SendEvents([.. Enumerable.Range(0, 40).Select(k => ProductView($"j{k}", $"jobber-{k % 8}", $"sku-run-{k % 10 + 1:D3}"))]);

        var started = await _admin.PostAsync("/v1/models/train", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await started.Json();
        var id = job.GetProperty("jobId").GetString()!;
        Assert.Equal($"/v1/models/jobs/{id}", started.Headers.Location!.OriginalString);

        JsonElement status = default;
        for (var i = 0; i < 300; i++)
        {
            status = await (await _admin.GetAsync($"/v1/models/jobs/{id}")).Json();
            if (status.GetProperty("status").GetString() != "running")
            {
                break;
            }
            await Task.Delay(50);
        }
        Assert.Equal("succeeded", status.GetProperty("status").GetString());
        var version = status.GetProperty("version").GetString();
        var models = await (await _admin.GetAsync("/v1/models")).Json();
        Assert.Equal(version, models[0].GetProperty("version").GetString());
        Assert.True(models[0].GetProperty("current").GetBoolean());

        await _admin.GetAsync("/v1/models/jobs/train-unknown").AssertStatus(HttpStatusCode.NotFound);
        await _app.Client(PersonalizerApp.AdminKey).GetAsync($"/v1/models/jobs/{id}").AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeclaredInterestsLiftTheirCategoryWithoutReplacingWhatTheVisitorDid()
    {
        await TrainOnCategoryShoppers();
        await _site.SendEvents(ProductView("i1", "curious", "sku-hik-002"), ProductView("i2", "curious", "sku-hik-011"), ProductView("i3", "curious", "sku-hik-023"));
        int Yoga(List<JsonElement> list) => list.Count(i => i.GetProperty("categories")[0].GetString() == "yoga");
        var before = await Recommend("curious", 10);

        await _site.PutJson("/v1/visitors/curious/preferences", """{"interests":["yoga"]}""").AssertStatus(HttpStatusCode.OK);
        var after = await Recommend("curious", 10);

        Assert.True(Yoga(after) >= 3 && Yoga(after) > Yoga(before), $"yoga {Yoga(before)} → {Yoga(after)}");
        Assert.True(after.Count(i => i.GetProperty("categories")[0].GetString() == "hiking") >= 5);
        Assert.Equal("hiking", after[0].GetProperty("categories")[0].GetString());

        // Someone with no history at all: their interest is where the cold start looks.
        await _site.PutJson("/v1/visitors/declared-only/preferences", """{"interests":["cycling"]}""").AssertStatus(HttpStatusCode.OK);
        var cold = await (await _site.GetAsync("/v1/recommendations/declared-only?strategy=personalized&count=5")).Json();
        Assert.Equal("cold_start", cold.GetProperty("reason").GetString());
        Assert.All(cold.GetProperty("items").EnumerateArray(), i => Assert.Equal("cycling", i.GetProperty("categories")[0].GetString()));
    }

    [Fact]
    public async Task SimilarItemsShareTheCategoryOfTheItem()
    {
        await TrainOnCategoryShoppers();

        var similar = await Recommend("anyone", 6, "similar", "sku-swi-005");

        Assert.Equal(6, similar.Count);
        Assert.DoesNotContain("sku-swi-005", similar.Select(i => i.GetProperty("itemId").GetString()));
        Assert.True(similar.Count(i => i.GetProperty("categories")[0].GetString() == "swimming") >= 5);
    }

    [Fact]
    public async Task ModelsAreListedWithTheirEvaluation()
    {
        var version = await TrainOnCategoryShoppers();

        var models = await (await _admin.GetAsync("/v1/models")).Json();
        var model = models[0];
        Assert.Equal(version, model.GetProperty("version").GetString());
        Assert.True(model.GetProperty("current").GetBoolean());
        Assert.True(model.GetProperty("evaluation").GetProperty("precision@10").GetDouble() > model.GetProperty("evaluation").GetProperty("popularity.precision@10").GetDouble());
    }

    [Fact]
    public async Task TrainingWithoutInteractionsIsAConflict()
    {
        await _admin.PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("/v1/recommendations/v?strategy=magic", "strategy")]
    [InlineData("/v1/recommendations/v?count=0", "count")]
    [InlineData("/v1/recommendations/v?count=1000", "count")]
    [InlineData("/v1/recommendations/v?strategy=similar", "itemId")]
    [InlineData("/v1/recommendations/v?itemId=bad%20id", "itemId")]
    [InlineData("/v1/recommendations/bad%20visitor", "visitorId")]
    public async Task BadInputIsAProblemNamingTheField(string url, string field)
    {
        var response = await _site.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Fact]
    public async Task KeysAreChecked()
    {
        await _app.Client(null).GetAsync("/v1/recommendations/v").AssertStatus(HttpStatusCode.Unauthorized);
        await _site.GetAsync("/v1/models").AssertStatus(HttpStatusCode.Forbidden);
        await _site.PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.Forbidden);
        await _app.Client("nobody-knows-me").PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.Unauthorized);
    }
}

public sealed class RuleSteeredRecommendationsTests : IAsyncLifetime, IDisposable
{
    private readonly PersonalizerApp _app = new(settings: new() { ["Personalizer:Recommendations:TrainIntervalMinutes"] = "0" });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task ARuleBoostsCategoriesInsideThePersonalizedList()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var events = Enumerable.Range(0, 120).SelectMany(v => Enumerable.Range(0, 5).Select(k =>
            HttpTestExtensions.ProductView($"s{v}-{k}", $"shopper-{v}", $"sku-{(v % 2 == 0 ? "yog" : "cam")}-{(v + k * 3) % 40 + 1:D3}"))).ToArray();
        foreach (var chunk in events.Chunk(300))
        {
            await site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }
        await admin.PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.OK);
        await site.SendEvents(HttpTestExtensions.ProductView("f1", "fan", "sku-yog-004"), HttpTestExtensions.ProductView("f2", "fan", "sku-yog-009"));
        await admin.PutJson("/v1/rules/camping-week", """{"slot":"home-recs","when":"context.utm.campaign == 'camping'","then":{"boostCategories":["camping"]}}""").AssertStatus(HttpStatusCode.OK);

        var plain = (await (await site.PostJson("/v1/decide", """{"visitorId":"fan","slots":["home-recs"]}""")).Json()).GetProperty("slots").GetProperty("home-recs");
        var steered = (await (await site.PostJson("/v1/decide", """{"visitorId":"fan","context":{"utm":{"campaign":"camping"}},"slots":["home-recs"]}""")).Json()).GetProperty("slots").GetProperty("home-recs");

        Assert.StartsWith("recs:", plain.GetProperty("source").GetString());
        Assert.Equal("yoga", plain.GetProperty("items")[0].GetProperty("categories")[0].GetString());
        Assert.Equal("rule:camping-week", steered.GetProperty("source").GetString());
        Assert.StartsWith("recs:", steered.GetProperty("reason").GetString());
        Assert.Equal("camping", steered.GetProperty("items")[0].GetProperty("categories")[0].GetString());
    }
}

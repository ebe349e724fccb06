using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Strategies;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Decisions;

public sealed class DecideApiTests
{
    private const string Body = """{"visitorId":"v-42","context":{"url":"https://shop.example/","device":"mobile","utm":{"campaign":"spring"}},"slots":["home-hero","home-recs","cart-offer","pdp-similar"]}""";

    [Fact]
    public async Task DecideAnswersEveryRequestedSlot()
    {
        await using var app = new PersonalizerApp();
        var response = await app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", Body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Json();
        Assert.StartsWith("d-", body.GetProperty("decisionId").GetString());
        var slots = body.GetProperty("slots");
        Assert.Equal("generic", slots.GetProperty("home-hero").GetProperty("variant").GetString());
        Assert.Equal("New season, new trails", slots.GetProperty("home-hero").GetProperty("content").GetProperty("title").GetString());
        Assert.Equal("default", slots.GetProperty("home-hero").GetProperty("source").GetString());
        Assert.Equal(8, slots.GetProperty("home-recs").GetProperty("items").GetArrayLength());
        Assert.Equal(6, slots.GetProperty("pdp-similar").GetProperty("items").GetArrayLength());
        Assert.Equal("free-shipping", slots.GetProperty("cart-offer").GetProperty("variant").GetString());
    }

    [Fact]
    public async Task RecommendationsFollowWhatVisitorsViewAndNeverShowWhatTheVisitorBought()
    {
        await using var app = new PersonalizerApp();
        var site = app.Client(PersonalizerApp.SiteKey);
        var events = Enumerable.Range(0, 30).Select(i => ProductView($"e-{i}", $"v-{i}", "sku-yog-005")).ToList();
        events.Add("""{"eventId":"p-1","type":"purchase","visitorId":"buyer","orderId":"o-1","lines":[{"itemId":"sku-yog-005","quantity":1,"price":10}]}""");
        await site.SendEvents([.. events]);

        var fresh = await (await site.PostJson("/v1/decide", """{"visitorId":"new","slots":["home-recs"]}""")).Json();
        var buyer = await (await site.PostJson("/v1/decide", """{"visitorId":"buyer","slots":["home-recs"]}""")).Json();

        var freshRecs = fresh.GetProperty("slots").GetProperty("home-recs");
        Assert.Equal("trending", freshRecs.GetProperty("source").GetString());
        Assert.Equal("sku-yog-005", freshRecs.GetProperty("items")[0].GetProperty("itemId").GetString());
        var buyerItems = buyer.GetProperty("slots").GetProperty("home-recs").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString());
        Assert.DoesNotContain("sku-yog-005", buyerItems);
    }

    [Fact]
    public async Task UnknownSlotsAreReportedBesideTheAnsweredOnes()
    {
        await using var app = new PersonalizerApp();
        var body = await (await app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", """{"visitorId":"v","slots":["home-hero","no-such-slot"]}""")).Json();

        Assert.Equal("no-such-slot", Assert.Single(body.GetProperty("unknownSlots").EnumerateArray()).GetString());
        Assert.True(body.GetProperty("slots").TryGetProperty("home-hero", out _));
    }

    [Fact]
    public async Task ExplainReturnsTheTraceOfEachSlot()
    {
        await using var app = new PersonalizerApp();
        var body = await (await app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide?explain=true", """{"visitorId":"v","slots":["home-hero"]}""")).Json();

        var trace = body.GetProperty("slots").GetProperty("home-hero").GetProperty("trace");
        Assert.Equal("preference-gate", trace[0].GetProperty("strategy").GetString());
        Assert.Equal("passed", trace[0].GetProperty("outcome").GetString());
        Assert.Equal("answered", trace[trace.GetArrayLength() - 1].GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task AStrategyThatMissesTheDeadlineGivesWayToTheFallback()
    {
        await using var app = new PersonalizerApp(
            services => services.AddSingleton<ISlotStrategy, SlowStrategy>(),
            new() { ["Personalizer:DecideBudgetMs"] = "100" });
        var response = await app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", """{"visitorId":"v","slots":["home-hero","home-recs"]}""");

        var slots = (await response.Json()).GetProperty("slots");
        Assert.Equal("fallback", slots.GetProperty("home-hero").GetProperty("source").GetString());
        Assert.Equal("timeout", slots.GetProperty("home-hero").GetProperty("reason").GetString());
        Assert.Equal("generic", slots.GetProperty("home-hero").GetProperty("variant").GetString());
        Assert.Equal("fallback", slots.GetProperty("home-recs").GetProperty("source").GetString());
        Assert.Equal(8, slots.GetProperty("home-recs").GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ASlotsOwnBudgetAndFallbackChainDecideWhatALateSlotShows()
    {
        await using var app = new PersonalizerApp(
            services => services.AddSingleton<ISlotStrategy, SlowStrategy>(),
            new() { ["Personalizer:DecideBudgetMs"] = "3000" });
        var site = app.Client(PersonalizerApp.SiteKey);
        var admin = app.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/slots/quick-recs", """{"kind":"recommendations","strategy":"personalized","count":4,"budgetMs":80,"fallbacks":["category_trending","trending"]}""")
            .AssertStatus(HttpStatusCode.OK);
        // Yoga is trending, and one visitor's top category.
        await site.SendEvents([.. Enumerable.Range(0, 30).Select(k => HttpTestExtensions.ProductView($"t-{k}", $"crowd-{k}", $"sku-yog-00{k % 6 + 1}")),
            HttpTestExtensions.ProductView("y-1", "yogi", "sku-yog-010"), HttpTestExtensions.ProductView("y-2", "yogi", "sku-yog-011")]).AssertStatus(HttpStatusCode.Accepted);

        var yogi = (await (await site.PostJson("/v1/decide?explain=true", """{"visitorId":"yogi","slots":["quick-recs"]}""")).Json()).GetProperty("slots").GetProperty("quick-recs");
        Assert.Equal("fallback", yogi.GetProperty("source").GetString());
        Assert.Equal("timeout", yogi.GetProperty("reason").GetString());
        Assert.Equal("category_trending", yogi.GetProperty("fallbackStep").GetString());
        Assert.All(yogi.GetProperty("items").EnumerateArray(), i => Assert.Equal("yoga", i.GetProperty("categories")[0].GetString()));
        Assert.Contains(yogi.GetProperty("trace").EnumerateArray(), t => t.GetProperty("strategy").GetString() == "fallback:category_trending");
        // The slot's 80 ms budget, not the decide's 3 s, bounded the slow strategy.
        Assert.Contains(yogi.GetProperty("trace").EnumerateArray(), t => t.GetProperty("outcome").GetString() == "timeout"
            && t.GetProperty("detail").GetString()!.Contains("80 ms", StringComparison.Ordinal));

        var stranger = (await (await site.PostJson("/v1/decide", """{"visitorId":"stranger","slots":["quick-recs"]}""")).Json()).GetProperty("slots").GetProperty("quick-recs");
        Assert.Equal("trending", stranger.GetProperty("fallbackStep").GetString());
        Assert.Equal(4, stranger.GetProperty("items").GetArrayLength());

        var bad = await admin.PutJson("/v1/slots/bad-chain", """{"kind":"recommendations","budgetMs":0,"fallbacks":["pray"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = await bad.Errors();
        Assert.Contains("budgetMs", errors.Keys);
        Assert.Contains("fallbacks[0]", errors.Keys);
    }

    [Fact]
    public async Task AVisitorWhoTurnedPersonalizationOffGetsTheDefault()
    {
        await using var app = new PersonalizerApp();
        var site = app.Client(PersonalizerApp.SiteKey);
        await site.PutJson("/v1/visitors/v-7/preferences", """{"personalization":false}""").AssertStatus(HttpStatusCode.OK);

        var hero = (await (await site.PostJson("/v1/decide", """{"visitorId":"v-7","slots":["home-hero"]}""")).Json()).GetProperty("slots").GetProperty("home-hero");

        Assert.Equal("default", hero.GetProperty("source").GetString());
        Assert.Equal("personalization_off", hero.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("""{"slots":["home-hero"]}""", "visitorId")]
    [InlineData("""{"visitorId":"v","slots":[]}""", "slots")]
    [InlineData("""{"visitorId":"v"}""", "slots")]
    [InlineData("""{"visitorId":"v","slots":["bad slot"]}""", "slots[0]")]
    [InlineData("""{"visitorId":"v","slots":["home-hero"],"context":{"utm":{"bad key":"x"}}}""", "context.utm.bad key")]
    [InlineData("""{"visitorId":"v","slots":"home-hero"}""", "slots")]
    public async Task BadInputIsAProblemNamingTheField(string body, string field)
    {
        await using var app = new PersonalizerApp();
        var response = await app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-123")]
    public async Task AMissingOrUnknownKeyIsUnauthorized(string? key)
    {
        await using var app = new PersonalizerApp();
        await app.Client(key).PostJson("/v1/decide", Body).AssertStatus(HttpStatusCode.Unauthorized);
    }

    /// <summary>Answers only after a second: always too late.</summary>
    private sealed class SlowStrategy : ISlotStrategy
    {
        public string Name => "slow";
        public int Order => StrategyOrder.Rules;
        public bool AppliesTo(SlotDefinition slot) => true;

        public async ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
        {
            await Task.Delay(1000, ct);
            return null;
        }
    }
}

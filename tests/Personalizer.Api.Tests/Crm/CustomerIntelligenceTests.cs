using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Personalizer.Api.Tests.Crm;

/// <remarks>Events up to 400 days back are accepted here, so that lapsed customers exist.</remarks>
public sealed class CustomerIntelligenceTests() : ApiTest(new PersonalizerApp(settings: new() { ["Personalizer:Limits:MaxEventAgeDays"] = "400" }))
{
    private static string Purchase(string visitor, int n, DateTimeOffset at, double price, string item = "sku-yog-001") =>
        $$"""{"eventId":"{{visitor}}-p{{n}}","type":"purchase","visitorId":"{{visitor}}","orderId":"{{visitor}}-o{{n}}","timestamp":"{{at.ToString("O", CultureInfo.InvariantCulture)}}","lines":[{"itemId":"{{item}}","quantity":1,"price":{{price.ToString(CultureInfo.InvariantCulture)}}}]}""";

    /// <summary>
    /// 60 customers drawn from the BG/NBD story itself (a Gamma-distributed purchase rate, a Beta
    /// chance of dropping out after each purchase, spend around a personal mean), first buying up to
    /// 50 weeks ago; and "gone", who last bought 380 days ago.
    /// </summary>
    private async Task SeedCustomersAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var random = new Random(3);
        var rates = new MathNet.Numerics.Distributions.Gamma(0.7, 1 / 0.15, random);   // purchases per week: shape 0.7, mean ≈ 0.1
        var dropouts = new MathNet.Numerics.Distributions.Beta(1, 4, random);
        var events = new List<string>();
        for (var c = 0; c < 60; c++)
        {
            var rate = rates.Sample();
            var dropout = dropouts.Sample();
            var meanSpend = 20 + random.NextDouble() * 80;
            var weeks = 4 + random.NextDouble() * 46;
            var t = 0.0;
            var n = 0;
            do
            {
                events.Add(Purchase($"cust-{c}", n++, now.AddDays(-7 * (weeks - t)), Math.Round(meanSpend * (0.5 + random.NextDouble()), 2)));
                t += -Math.Log(1 - random.NextDouble()) / rate;
            }
            while (t < weeks && random.NextDouble() > dropout);
        }
        events.Add(Purchase("gone", 0, now.AddDays(-390), 50));
        events.Add(Purchase("gone", 1, now.AddDays(-380), 70));
        foreach (var chunk in events.Chunk(100))
        {
            await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }
        var model = await (await Admin.PostAsync("/v1/crm/refresh", null)).Json();
        Assert.Equal(61, model.GetProperty("customers").GetInt32());
        Assert.True(model.TryGetProperty("bgNbd", out _), model.ToString());
    }

    private async Task<JsonElement> ProfileAsync(string visitor) => await (await Admin.GetAsync($"/v1/profiles/{visitor}")).Json();

    private async Task<JsonElement> SlotAsync(string visitor, string slot, string context = "{}", bool explain = false)
    {
        var response = await Site.PostJson($"/v1/decide{(explain ? "?explain=true" : "")}", $$"""{"visitorId":"{{visitor}}","context":{{context}},"slots":["{{slot}}"]}""");
        response.EnsureSuccessStatusCode();
        return (await response.Json()).GetProperty("slots").GetProperty(slot);
    }

    [Fact]
    public async Task AVisitorWithOrdersHasRfmLifecycleAndLifetimeValue()
    {
        await SeedCustomersAsync();
        var profile = await ProfileAsync("cust-0");
        var rfm = profile.GetProperty("rfm");
        foreach (var score in new[] { "r", "f", "m" })
        {
            Assert.InRange(rfm.GetProperty(score).GetInt32(), 1, 5);
        }
        Assert.Contains(rfm.GetProperty("segment").GetString(), Personalizer.Engine.Crm.CustomerInsights.Segments);
        Assert.Contains(profile.GetProperty("lifecycle").GetString(), Personalizer.Engine.Crm.CustomerInsights.Stages);
        if (!profile.TryGetProperty("clv", out var clv))
        {
            Assert.Fail($"no clv: {profile.GetProperty("clvUnavailable")} / {await (await Admin.GetAsync("/v1/crm/model")).Content.ReadAsStringAsync()}");
        }
        Assert.InRange(clv.GetProperty("probabilityAlive").GetDouble(), 0, 1);
        Assert.True(clv.GetProperty("expectedPurchases90d").GetDouble() >= 0);
        Assert.True(clv.GetProperty("predictedValue1y").GetDouble() >= 0);

        var gone = await ProfileAsync("gone");
        Assert.Equal("lapsed", gone.GetProperty("lifecycle").GetString());
        Assert.Equal(1, gone.GetProperty("rfm").GetProperty("r").GetInt32());

        var stranger = await Site.SendEvents(HttpTestExtensions.PageView("pv-1", "stranger"));
        Assert.Equal("visitor", (await ProfileAsync("stranger")).GetProperty("lifecycle").GetString());
        Assert.False((await ProfileAsync("stranger")).TryGetProperty("rfm", out _));
    }

    [Fact]
    public async Task ARuleOnTheLifecycleStageWorksAndWithoutItTheStageChoosesATaggedVariant()
    {
        await SeedCustomersAsync();
        // Without a rule: the variant tagged lifecycle:lapsed, chosen by the information-driven strategy.
        var untouched = await SlotAsync("gone", "home-hero", explain: true);
        Assert.Equal("welcome-back", untouched.GetProperty("variant").GetString());
        Assert.Equal("lifecycle", untouched.GetProperty("source").GetString());
        Assert.Contains("lapsed", untouched.GetProperty("reason").GetString());

        await Admin.PutJson("/v1/rules/lapsed-vip", """{"slot":"home-hero","when":"profile.lifecycle == 'lapsed'","then":{"variant":"vip-banner"}}""").AssertStatus(HttpStatusCode.OK);
        var ruled = await SlotAsync("gone", "home-hero");
        Assert.Equal("rule:lapsed-vip", ruled.GetProperty("source").GetString());
        Assert.Equal("vip-banner", ruled.GetProperty("variant").GetString());
        var active = await ProfileAsync("cust-0");
        Assert.NotEqual("lapsed", active.GetProperty("lifecycle").GetString());
        Assert.NotEqual("rule:lapsed-vip", (await SlotAsync("cust-0", "home-hero")).GetProperty("source").GetString());
    }

    [Fact]
    public async Task ACartReminderAndTheTopAffinityChooseVariants()
    {
        await Site.SendEvents(
            HttpTestExtensions.ProductView("a1", "runner", "sku-run-001"),
            HttpTestExtensions.ProductView("a2", "runner", "sku-run-002")).AssertStatus(HttpStatusCode.Accepted);
        var hero = await SlotAsync("runner", "home-hero");
        Assert.Equal("running-hero", hero.GetProperty("variant").GetString());
        Assert.Equal("affinity", hero.GetProperty("source").GetString());

        await Site.SendEvents("""{"eventId":"a3","type":"add_to_cart","visitorId":"runner","itemId":"sku-run-003","quantity":1,"price":30}""").AssertStatus(HttpStatusCode.Accepted);
        var offer = await SlotAsync("runner", "cart-offer");
        Assert.Equal("bundle", offer.GetProperty("variant").GetString());
        Assert.Equal("lifecycle", offer.GetProperty("source").GetString());
        var profile = await ProfileAsync("runner");
        Assert.Equal("engaged_prospect", profile.GetProperty("lifecycle").GetString());
        Assert.NotEmpty(profile.GetProperty("brandAffinity").EnumerateArray());
    }

    [Fact]
    public async Task AnExcludedCategoryNeverAppearsInAnySlot()
    {
        var views = Enumerable.Range(1, 9).Select(i => HttpTestExtensions.ProductView($"v{i}", "picky", $"sku-run-00{i}")).ToArray();
        await Site.SendEvents(views).AssertStatus(HttpStatusCode.Accepted);
        await Site.SendEvents(Enumerable.Range(0, 30).Select(i => HttpTestExtensions.ProductView($"t{i}", $"crowd-{i}", $"sku-run-0{10 + i % 20}")).ToArray()).AssertStatus(HttpStatusCode.Accepted);
        await Admin.PostAsync("/v1/models/train?wait=true", null);
        await Site.PutJson("/v1/visitors/picky/preferences", """{"excludedCategories":["running"]}""").AssertStatus(HttpStatusCode.OK);

        var response = await Site.PostJson("/v1/decide", """{"visitorId":"picky","context":{"attributes":{"itemId":"sku-run-001"}},"slots":["home-hero","home-recs","pdp-similar","cart-offer"]}""");
        var slots = (await response.Json()).GetProperty("slots");
        Assert.NotEqual("running-hero", slots.GetProperty("home-hero").GetProperty("variant").GetString());
        foreach (var slot in new[] { "home-recs", "pdp-similar" })
        {
            var items = slots.GetProperty(slot).GetProperty("items").EnumerateArray().ToList();
            Assert.NotEmpty(items);
            Assert.DoesNotContain(items, i => i.GetProperty("categories").EnumerateArray().Any(c => c.GetString() == "running"));
        }
        // Explain says which filter removed which item.
        var explained = await SlotAsync("picky", "home-recs", explain: true);
        Assert.Contains(explained.GetProperty("trace").EnumerateArray(), t => t.GetProperty("strategy").GetString() == "filter"
            && t.GetProperty("detail").GetString()!.EndsWith("in a category the visitor excluded", StringComparison.Ordinal));
        var apps = await (await Site.GetAsync("/v1/recommendations/picky?strategy=personalized&count=20")).Json();
        Assert.DoesNotContain(apps.GetProperty("items").EnumerateArray(), i => i.GetProperty("categories").EnumerateArray().Any(c => c.GetString() == "running"));
    }

    [Fact]
    public async Task TrackingDeniedErasesBehaviourAndStopsProfileWrites()
    {
        await Site.SendEvents(HttpTestExtensions.PageView("d1", "private"), HttpTestExtensions.ProductView("d2", "private", "sku-run-001")).AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal(1, (await ProfileAsync("private")).GetProperty("pageViews").GetInt32());

        await Site.PutJson("/v1/visitors/private/preferences", """{"tracking":"denied"}""").AssertStatus(HttpStatusCode.OK);
        var erased = await ProfileAsync("private");
        Assert.Equal(0, erased.GetProperty("pageViews").GetInt32());
        Assert.Empty(erased.GetProperty("recentlyViewed").EnumerateArray());
        Assert.Empty(erased.GetProperty("affinity").EnumerateArray());
        Assert.Equal("denied", erased.GetProperty("preferences").GetProperty("tracking").GetString());

        var sent = await (await Site.SendEvents(HttpTestExtensions.PageView("d3", "private"), HttpTestExtensions.PageView("d4", "private"))).Json();
        Assert.Equal(2, sent.GetProperty("dropped").GetInt32());
        Assert.Equal(0, sent.GetProperty("accepted").GetInt32());
        Assert.Equal(0, (await ProfileAsync("private")).GetProperty("pageViews").GetInt32());
    }

    [Fact]
    public async Task TheCustomerModelEndpointsAnswerAndRefuseSiteKeys()
    {
        await Admin.PostAsync("/v1/crm/refresh", null).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync("/v1/crm/model")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Site.GetAsync("/v1/crm/model")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Site.PostAsync("/v1/crm/refresh", null)).StatusCode);
    }

    private static readonly string[] RetainStages = ["lapsed", "at_risk"];
    private static readonly string[] SleepingSegments = ["at_risk", "cant_lose_them", "hibernating", "lost"];

    [Fact]
    public async Task PurchasesMinutesApartGiveNoDegenerateModelAndNoRecentBuyerIsLapsedOrAtRisk()
    {
        // 40 customers, each ordering four times a minute apart, yesterday around noon (UTC): the
        // case where a fit in fractional time ran alpha to 5e-324 and made every buyer "lapsed".
        var noonYesterday = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero).AddHours(-12);
        var events = new List<string>();
        for (var c = 0; c < 40; c++)
        {
            for (var k = 0; k < 4; k++)
            {
                events.Add(Purchase($"quick-{c}", k, noonYesterday.AddMinutes(c + k), 20 + c));
            }
        }
        foreach (var chunk in events.Chunk(100))
        {
            await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }

        var model = await (await Admin.PostAsync("/v1/crm/refresh", null)).Json();
        Assert.Equal(40, model.GetProperty("customers").GetInt32());
        Assert.Equal(0, model.GetProperty("repeatCustomers").GetInt32()); // same-day orders are one transaction
        Assert.Contains("more than one day", model.GetProperty("clvUnavailable").GetString());

        foreach (var visitor in new[] { "quick-0", "quick-17", "quick-39" })
        {
            var profile = await ProfileAsync(visitor);
            Assert.Equal(4, profile.GetProperty("orders").GetInt32());
            Assert.False(profile.TryGetProperty("clv", out _));
            Assert.Contains("more than one day", profile.GetProperty("clvUnavailable").GetString());
            Assert.DoesNotContain(profile.GetProperty("lifecycle").GetString(), RetainStages);
            var rfm = profile.GetProperty("rfm");
            Assert.True(rfm.GetProperty("r").GetInt32() >= 4, rfm.ToString());
            Assert.DoesNotContain(rfm.GetProperty("segment").GetString(), SleepingSegments);
            // And no win-back banner for someone who bought yesterday.
            Assert.NotEqual("welcome-back", (await SlotAsync(visitor, "home-hero")).GetProperty("variant").GetString());
        }
    }

    [Fact]
    public async Task ARefitAsOfADateReportsPredictedAgainstActualAfterIt()
    {
        await SeedCustomersAsync();
        var asOf = DateTimeOffset.UtcNow.AddDays(-120).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var response = await Admin.PostAsync($"/v1/crm/refresh?asOf={asOf}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var model = await response.Json();
        Assert.Equal(asOf, model.GetProperty("asOf").GetString());
        Assert.True(model.GetProperty("customers").GetInt32() < 61); // those who first bought later are not customers yet
        var holdout = model.GetProperty("holdout");
        Assert.Equal(asOf, holdout.GetProperty("calibrationEnd").GetString());
        var groups = holdout.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(model.GetProperty("customers").GetInt32(), groups.Sum(g => g.GetProperty("customers").GetInt32()));
        Assert.Equal(holdout.GetProperty("actual").GetInt32(), groups.Sum(g => g.GetProperty("actual").GetInt32()));
        Assert.True(holdout.GetProperty("predicted").GetDouble() > 0);
        Assert.Equal(model.GetRawText(), await (await Admin.GetAsync("/v1/crm/model")).Content.ReadAsStringAsync());

        var bad = await Admin.PostAsync("/v1/crm/refresh?asOf=30.09.1997", null);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("asOf", (await bad.Errors()).Keys);
        Assert.Contains("holdoutDays", (await (await Admin.PostAsync("/v1/crm/refresh?holdoutDays=30", null)).Errors()).Keys);
        Assert.Contains("asOf", (await (await Admin.PostAsync($"/v1/crm/refresh?asOf={DateTimeOffset.UtcNow.AddDays(3):yyyy-MM-dd}", null)).Errors()).Keys);
    }

    [Fact]
    public async Task ADeclaredInterestChoosesTheVariantTaggedForIt()
    {
        await Site.SendEvents(HttpTestExtensions.PageView("i1", "declared")).AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal("generic", (await SlotAsync("declared", "home-hero")).GetProperty("variant").GetString());

        await Site.PutJson("/v1/visitors/declared/preferences", """{"interests":["climbing","running"]}""").AssertStatus(HttpStatusCode.OK);
        var hero = await SlotAsync("declared", "home-hero", explain: true);
        Assert.Equal("running-hero", hero.GetProperty("variant").GetString());
        Assert.Equal("interest", hero.GetProperty("source").GetString());
        Assert.Contains("declared interest running", hero.GetProperty("reason").GetString());

        // An interest the visitor also excluded is not used.
        await Site.PutJson("/v1/visitors/declared/preferences", """{"interests":["running"],"excludedCategories":["running"]}""").AssertStatus(HttpStatusCode.OK);
        Assert.NotEqual("running-hero", (await SlotAsync("declared", "home-hero")).GetProperty("variant").GetString());
    }
}

using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Personalizer.Api.Tests.Experiments;

public sealed class ExperimentsApiTests() : ApiTest()
{
    private const string HeroTest = """
        { "slot": "home-hero", "goal": "purchase", "status": "running",
          "arms": [ { "id": "A", "variant": "generic", "weight": 1 }, { "id": "B", "variant": "welcome-back", "weight": 1 } ] }
        """;


    private async Task<string> HeroSourceAsync(string visitor)
    {
        var response = await Site.PostJson("/v1/decide", $$"""{"visitorId":"{{visitor}}","slots":["home-hero"]}""");
        response.EnsureSuccessStatusCode();
        return (await response.Json()).GetProperty("slots").GetProperty("home-hero").GetProperty("source").GetString()!;
    }

    private async Task<JsonElement> ResultsWhenExposedAsync(string experiment, int visitors)
    {
        // Exposures reach the log off the request path: wait until every decide is in.
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var results = await (await Admin.GetAsync($"/v1/experiments/{experiment}/results")).Json();
            if (results.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("exposures").GetInt32()) == visitors)
            {
                return results;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the exposures never reached the log");
    }

    [Fact]
    public async Task AnErasedVisitorLeavesTheResultsAtOnce()
    {
        await Admin.PutJson("/v1/experiments/hero-test", HeroTest).AssertStatus(HttpStatusCode.OK);
        var arms = new Dictionary<string, string>();
        for (var i = 0; i < 10; i++)
        {
            arms[$"e-{i}"] = (await HeroSourceAsync($"e-{i}"))["experiment:hero-test/".Length..];
        }
        await Site.SendEvents(
            """{"eventId":"b1","type":"purchase","visitorId":"e-0","orderId":"o1","lines":[{"itemId":"sku-run-001","quantity":1,"price":40}]}""",
            """{"eventId":"b2","type":"purchase","visitorId":"e-0","orderId":"o2","lines":[{"itemId":"sku-run-001","quantity":1,"price":10}]}""",
            """{"eventId":"b3","type":"purchase","visitorId":"e-1","orderId":"o3","lines":[{"itemId":"sku-run-001","quantity":1,"price":25}]}""").AssertStatus(HttpStatusCode.Accepted);
        var before = (await ResultsWhenExposedAsync("hero-test", 10)).GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("arm").GetString()!);

        await Admin.DeleteAsync("/v1/profiles/e-0").AssertStatus(HttpStatusCode.NoContent);

        var after = (await ResultsWhenExposedAsync("hero-test", 9)).GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("arm").GetString()!);
        var arm = arms["e-0"];
        Assert.Equal(before[arm].GetProperty("exposures").GetInt32() - 1, after[arm].GetProperty("exposures").GetInt32());
        Assert.Equal(before[arm].GetProperty("conversions").GetInt32() - 1, after[arm].GetProperty("conversions").GetInt32());
        Assert.Equal(before[arm].GetProperty("revenue").GetDouble() - 50, after[arm].GetProperty("revenue").GetDouble(), 6);
        var other = arm == "A" ? "B" : "A";
        Assert.Equal(before[other].GetProperty("exposures").GetInt32(), after[other].GetProperty("exposures").GetInt32());
    }

    [Fact]
    public async Task ASimulatedExperimentRecoversTheTrueUpliftWithinItsInterval()
    {
        await Admin.PutJson("/v1/experiments/hero-test", HeroTest).AssertStatus(HttpStatusCode.OK);
        const int visitors = 4000;
        const double rateA = 0.10, rateB = 0.12; // B truly converts 20% better
        var random = new Random(7);
        var purchases = new List<string>();
        var arms = new Dictionary<string, int>();
        for (var i = 0; i < visitors; i++)
        {
            var visitor = $"sim-{i}";
            var source = await HeroSourceAsync(visitor);
            Assert.StartsWith("experiment:hero-test/", source, StringComparison.Ordinal);
            var arm = source["experiment:hero-test/".Length..];
            arms[arm] = arms.GetValueOrDefault(arm) + 1;
            Assert.Equal(source, await HeroSourceAsync(visitor)); // sticky
            if (random.NextDouble() < (arm == "B" ? rateB : rateA))
            {
                purchases.Add($$"""{"eventId":"buy-{{i}}","type":"purchase","visitorId":"{{visitor}}","orderId":"o-{{i}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":40}]}""");
            }
        }
        foreach (var chunk in purchases.Chunk(200))
        {
            await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }

        var results = await ResultsWhenExposedAsync("hero-test", visitors);
        Assert.Equal("A", results.GetProperty("baseline").GetString());
        var byArm = results.GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("arm").GetString()!);
        Assert.Equal(arms["A"], byArm["A"].GetProperty("exposures").GetInt32());
        Assert.Equal(arms["B"], byArm["B"].GetProperty("exposures").GetInt32());
        Assert.Equal(purchases.Count, byArm["A"].GetProperty("conversions").GetInt32() + byArm["B"].GetProperty("conversions").GetInt32());
        foreach (var (arm, truth) in new[] { ("A", rateA), ("B", rateB) })
        {
            var interval = byArm[arm].GetProperty("conversionRateInterval");
            Assert.InRange(truth, interval.GetProperty("low").GetDouble(), interval.GetProperty("high").GetDouble());
            Assert.Equal(40 * byArm[arm].GetProperty("conversions").GetInt32(), byArm[arm].GetProperty("revenue").GetDouble(), 6);
        }
        var uplift = byArm["B"].GetProperty("upliftInterval");
        Assert.InRange(0.2, uplift.GetProperty("low").GetDouble(), uplift.GetProperty("high").GetDouble());
        Assert.InRange(byArm["B"].GetProperty("pValue").GetDouble(), 0, 1);
        Assert.Equal(1, byArm["A"].GetProperty("probabilityBest").GetDouble() + byArm["B"].GetProperty("probabilityBest").GetDouble(), 6);
        Assert.False(results.GetProperty("sampleRatio").GetProperty("mismatch").GetBoolean());
    }

    [Fact]
    public async Task AnEffectPlantedInOneLifecycleStageShowsInThatStageAndNotInTheOthers()
    {
        await Admin.PutJson("/v1/experiments/hero-test", HeroTest).AssertStatus(HttpStatusCode.OK);
        const int perStage = 400;
        string[] stages = ["visitor", "engaged_prospect", "first_time_customer"];
        // Before exposure: prospects look at three products, first-time customers bought once.
        var setup = new List<string>();
        for (var i = 0; i < perStage; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                setup.Add(HttpTestExtensions.ProductView($"pv-{i}-{k}", $"engaged_prospect-{i}", $"sku-run-00{k + 1}"));
            }
            setup.Add($$"""{"eventId":"first-{{i}}","type":"purchase","visitorId":"first_time_customer-{{i}}","orderId":"first-{{i}}","lines":[{"itemId":"sku-yog-001","quantity":1,"price":30}]}""");
        }
        foreach (var chunk in setup.Chunk(400))
        {
            await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }
        await Admin.PostAsync("/v1/crm/refresh", null).AssertStatus(HttpStatusCode.OK); // RFM cut points for the customers
        // B converts 35% of prospects against A's 10%; in the other stages both convert 10%.
        var random = new Random(11);
        var purchases = new List<string>();
        foreach (var stage in stages)
        {
            for (var i = 0; i < perStage; i++)
            {
                var visitor = $"{stage}-{i}";
                var arm = (await HeroSourceAsync(visitor))["experiment:hero-test/".Length..];
                var rate = stage == "engaged_prospect" && arm == "B" ? 0.35 : 0.10;
                if (random.NextDouble() < rate)
                {
                    purchases.Add($$"""{"eventId":"goal-{{visitor}}","type":"purchase","visitorId":"{{visitor}}","orderId":"goal-{{visitor}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":40}]}""");
                }
            }
        }
        foreach (var chunk in purchases.Chunk(200))
        {
            await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }

        var results = await ResultsWhenExposedAsync("hero-test", 3 * perStage);
        var byStage = results.GetProperty("byStage").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!);
        Assert.Equal(stages.Order(), byStage.Keys.Order());
        foreach (var stage in stages)
        {
            Assert.Equal(perStage, byStage[stage].GetProperty("exposures").GetInt32());
            var b = byStage[stage].GetProperty("arms").EnumerateArray().Single(a => a.GetProperty("arm").GetString() == "B");
            var interval = b.GetProperty("upliftInterval");
            var (low, high) = (interval.GetProperty("low").GetDouble(), interval.GetProperty("high").GetDouble());
            if (stage == "engaged_prospect")
            {
                Assert.True(low > 0.5, $"{stage}: uplift interval [{low}, {high}] should show the planted effect (+250 %)");
            }
            else
            {
                Assert.True(low < 0 && high > 0, $"{stage}: uplift interval [{low}, {high}] should hold 0");
            }
        }
        // The RFM breakdown: only the first-time customers have a segment (all bought today: new_customers).
        var bySegment = results.GetProperty("bySegment").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!, g => g.GetProperty("exposures").GetInt32());
        Assert.Equal(2 * perStage, bySegment["none"]);
        Assert.Equal(perStage, bySegment["new_customers"]);

        // The slot report has the same breakdown.
        var report = await (await Admin.GetAsync("/v1/reports/slots?by=stage")).Json();
        var hero = report.GetProperty("slots").EnumerateArray().Single(s => s.GetProperty("slot").GetString() == "home-hero");
        var groups = hero.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!);
        foreach (var stage in stages)
        {
            Assert.Equal(perStage, groups[stage].GetProperty("impressions").GetInt64());
        }
        Assert.Equal(purchases.Count, groups.Values.Sum(g => g.GetProperty("conversions").GetInt64()));
        Assert.Contains("by", (await (await Admin.GetAsync("/v1/reports/slots?by=colour")).Errors()).Keys);
    }

    [Fact]
    public async Task TheControlGroupSeesTheSlotDefaultAndNothingPersonalized()
    {
        // A rule that would personalize everyone: the experiment runs before rules, so its control group keeps the default.
        await Admin.PutJson("/v1/rules/everyone", """{"slot":"home-hero","when":"true","then":{"variant":"welcome-back"}}""").AssertStatus(HttpStatusCode.OK);
        await Admin.PutJson("/v1/experiments/holdout", """
            { "slot": "home-hero", "status": "running", "controlPercent": 50,
              "arms": [ { "id": "treated", "variant": "welcome-back" } ] }
            """).AssertStatus(HttpStatusCode.OK);
        var control = 0;
        for (var i = 0; i < 200; i++)
        {
            var response = await Site.PostJson("/v1/decide", $$"""{"visitorId":"c-{{i}}","slots":["home-hero"]}""");
            var slot = (await response.Json()).GetProperty("slots").GetProperty("home-hero");
            var source = slot.GetProperty("source").GetString();
            if (source == "experiment:holdout/control")
            {
                control++;
                Assert.Equal("generic", slot.GetProperty("variant").GetString());
            }
            else
            {
                Assert.Equal("experiment:holdout/treated", source);
            }
        }
        Assert.InRange(control, 70, 130);
    }

    [Fact]
    public async Task ExperimentsAreVersionedConfiguration()
    {
        var put = await (await Admin.PutJson("/v1/experiments/hero-test", HeroTest)).Json();
        Assert.Equal("running", put.GetProperty("experiment").GetProperty("status").GetString());
        Assert.True(put.GetProperty("experiment").GetProperty("startedAt").GetInt64() > 0);
        var list = await (await Admin.GetAsync("/v1/experiments")).Json();
        Assert.Equal("hero-test", Assert.Single(list.EnumerateArray()).GetProperty("id").GetString());

        await Admin.PutJson("/v1/experiments/hero-test", HeroTest.Replace("running", "stopped", StringComparison.Ordinal)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("default", await HeroSourceAsync("v1"));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync("/v1/experiments/hero-test")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/v1/experiments/hero-test")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/v1/experiments/hero-test/results")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Site.GetAsync("/v1/experiments")).StatusCode);
    }

    [Theory]
    [InlineData("""{"arms":[{"id":"A","variant":"generic"},{"id":"B","variant":"generic"}]}""", "slot")]
    [InlineData("""{"slot":"home-recs","arms":[{"id":"A","strategy":"personalized"},{"id":"B","strategy":"magic"}]}""", "arms[1].strategy")]
    [InlineData("""{"slot":"home-hero","arms":[{"id":"A","variant":"generic"}]}""", "arms")]
    [InlineData("""{"slot":"home-hero","arms":[{"id":"A","variant":"nope"},{"id":"B","variant":"generic"}]}""", "arms[0].variant")]
    [InlineData("""{"slot":"home-hero","arms":[{"id":"A","variant":"generic"},{"id":"A","variant":"generic"}]}""", "arms[1].id")]
    [InlineData("""{"slot":"home-hero","arms":[{"id":"control","variant":"generic"},{"id":"B","variant":"generic"}]}""", "arms[0].id")]
    [InlineData("""{"slot":"home-hero","arms":[{"id":"A","variant":"generic","weight":-1},{"id":"B","variant":"generic"}]}""", "arms[0].weight")]
    [InlineData("""{"slot":"home-hero","controlPercent":95,"arms":[{"id":"A","variant":"generic"}]}""", "controlPercent")]
    [InlineData("""{"slot":"home-hero","goal":"buy","arms":[{"id":"A","variant":"generic"},{"id":"B","variant":"generic"}]}""", "goal")]
    [InlineData("""{"slot":"home-hero","status":"live","arms":[{"id":"A","variant":"generic"},{"id":"B","variant":"generic"}]}""", "status")]
    [InlineData("""{"slot":"home-hero","allocation":"greedy","arms":[{"id":"A","variant":"generic"},{"id":"B","variant":"generic"}]}""", "allocation")]
    [InlineData("""{"slot":"home-hero","audience":"profile.orders >","arms":[{"id":"A","variant":"generic"},{"id":"B","variant":"generic"}]}""", "audience")]
    [InlineData("""{"slot":"home-hero","arms":"A"}""", "arms")]
    public async Task BadExperimentsAreRefusedNamingTheField(string body, string field)
    {
        var response = await Admin.PutJson("/v1/experiments/bad", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Fact]
    public async Task TheSlotReportCountsImpressionsClicksAndConversionsPerVariantAndSource()
    {
        await Admin.PutJson("/v1/rules/mobile", """{"slot":"home-hero","when":"context.device == 'mobile'","then":{"variant":"welcome-back"}}""").AssertStatus(HttpStatusCode.OK);
        for (var i = 0; i < 10; i++)
        {
            var device = i < 4 ? "mobile" : "desktop";
            await Site.PostJson("/v1/decide", $$"""{"visitorId":"r-{{i}}","context":{"device":"{{device}}"},"slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        }
        await Site.SendEvents(
            """{"eventId":"k1","type":"slot_click","visitorId":"r-0","slotId":"home-hero","variant":"welcome-back"}""",
            """{"eventId":"k2","type":"slot_click","visitorId":"r-5","slotId":"home-hero","variant":"generic"}""",
            """{"eventId":"p1","type":"purchase","visitorId":"r-0","orderId":"o1","lines":[{"itemId":"sku-run-001","quantity":2,"price":15}]}""").AssertStatus(HttpStatusCode.Accepted);

        JsonElement hero = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var report = await (await Admin.GetAsync("/v1/reports/slots")).Json();
            var slots = report.GetProperty("slots").EnumerateArray().Where(s => s.GetProperty("slot").GetString() == "home-hero").ToList();
            if (slots.Count == 1 && slots[0].GetProperty("impressions").GetInt64() == 10)
            {
                hero = slots[0];
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(10, hero.GetProperty("impressions").GetInt64());
        Assert.Equal(2, hero.GetProperty("clicks").GetInt64());
        Assert.Equal(0.2, hero.GetProperty("ctr").GetDouble(), 6);
        var rows = hero.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("source").GetString()!);
        Assert.Equal(4, rows["rule:mobile"].GetProperty("impressions").GetInt64());
        Assert.Equal(1, rows["rule:mobile"].GetProperty("conversions").GetInt64());
        Assert.Equal(30, rows["rule:mobile"].GetProperty("revenue").GetDouble(), 6);
        Assert.Equal(6, rows["default"].GetProperty("impressions").GetInt64());
        Assert.Equal(1, rows["default"].GetProperty("clicks").GetInt64());

        var bad = await Admin.GetAsync("/v1/reports/slots?from=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("from", (await bad.Errors()).Keys);
        Assert.Equal(HttpStatusCode.Forbidden, (await Site.GetAsync("/v1/reports/slots")).StatusCode);
    }

    [Fact]
    public async Task ThompsonSamplingShiftsTrafficToTheBetterArm()
    {
        await Admin.PutJson("/v1/experiments/bandit", """
            { "slot": "home-hero", "status": "running", "allocation": "thompson", "goal": "purchase",
              "arms": [ { "id": "A", "variant": "generic" }, { "id": "B", "variant": "welcome-back" } ] }
            """).AssertStatus(HttpStatusCode.OK);
        async Task<Dictionary<string, int>> Round(string prefix, int visitors, bool buy)
        {
            var counts = new Dictionary<string, int> { ["A"] = 0, ["B"] = 0 };
            var purchases = new List<string>();
            var random = new Random(prefix.Length);
            for (var i = 0; i < visitors; i++)
            {
                var arm = (await HeroSourceAsync($"{prefix}-{i}"))["experiment:bandit/".Length..];
                counts[arm]++;
                // B truly converts at 40%, A at 5%.
                if (buy && random.NextDouble() < (arm == "B" ? 0.40 : 0.05))
                {
                    purchases.Add($$"""{"eventId":"{{prefix}}-buy-{{i}}","type":"purchase","visitorId":"{{prefix}}-{{i}}","orderId":"{{prefix}}-o-{{i}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":20}]}""");
                }
            }
            foreach (var chunk in purchases.Chunk(200))
            {
                await Site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
            }
            return counts;
        }

        var learning = await Round("early", 400, buy: true);
        Assert.InRange(learning["B"], 150, 250); // no results yet: an even split
        await ResultsWhenExposedAsync("bandit", 400);
        await App.Services.GetRequiredService<Personalizer.Engine.Experiments.ThompsonRefresh>().RefreshAllAsync();

        var exploiting = await Round("late", 400, buy: false);
        Assert.True(exploiting["B"] > 0.9 * 400, $"B got {exploiting["B"]} of 400 visitors after the refresh");
        Assert.True(exploiting["A"] > 0, "the floor keeps the worse arm learning");
    }

    [Fact]
    public async Task ARecommendationsExperimentComparesStrategiesAndItsControlSeesNothingPersonal()
    {
        await Site.SendEvents(HttpTestExtensions.ProductView("pv-1", "r-0", "sku-yog-001")).AssertStatus(HttpStatusCode.Accepted);
        await Admin.PutJson("/v1/experiments/recs-test", """
            { "slot": "home-recs", "status": "running", "controlPercent": 30, "control": "none",
              "arms": [ { "id": "recent", "strategy": "recently_viewed" }, { "id": "trend", "strategy": "trending" } ] }
            """).AssertStatus(HttpStatusCode.OK);
        var sources = new HashSet<string>();
        var controlLists = new HashSet<string>();
        for (var i = 0; i < 60; i++)
        {
            var visitor = i == 0 ? "r-0" : $"r-{i}";
            var response = await Site.PostJson("/v1/decide", $$"""{"visitorId":"{{visitor}}","slots":["home-recs"]}""");
            var slot = (await response.Json()).GetProperty("slots").GetProperty("home-recs");
            var source = slot.GetProperty("source").GetString()!;
            sources.Add(source);
            Assert.NotEmpty(slot.GetProperty("items").EnumerateArray());
            if (visitor == "r-0" && source == "experiment:recs-test/recent")
            {
                Assert.Equal("sku-yog-001", slot.GetProperty("items")[0].GetProperty("itemId").GetString());
            }
            if (source == "experiment:recs-test/control")
            {
                // Nothing personal: every visitor of the control group gets the same (trending) list.
                var items = string.Join(",", slot.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("itemId").GetString()));
                controlLists.Add(items);
            }
        }
        Assert.Single(controlLists);
        Assert.Equal(["experiment:recs-test/control", "experiment:recs-test/recent", "experiment:recs-test/trend"], sources.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DevicesMergedByIdentifyShareTheCustomersArm()
    {
        await Admin.PutJson("/v1/experiments/hero-test", HeroTest).AssertStatus(HttpStatusCode.OK);
        var phoneArm = await HeroSourceAsync("phone");
        // A second device that, on its own, lands in the other arm.
        var definition = new Personalizer.Engine.Configuration.ExperimentDefinition { Id = "hero-test", Arms = [new() { Id = "A" }, new() { Id = "B" }] };
        int Arm(string visitor) => Personalizer.Engine.Experiments.ExperimentAssignment.Assign(definition, visitor);
        var laptop = Enumerable.Range(0, 100).Select(i => $"laptop-{i}").First(id => Arm(id) != Arm("phone"));
        Assert.NotEqual(phoneArm, await HeroSourceAsync(laptop));

        await Site.SendEvents(
            """{"eventId":"id-1","type":"identify","visitorId":"phone","customerId":"c-1"}""",
            $$"""{"eventId":"id-2","type":"identify","visitorId":"{{laptop}}","customerId":"c-1"}""").AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal(phoneArm, await HeroSourceAsync(laptop));
        Assert.Equal(phoneArm, await HeroSourceAsync("phone"));
    }
}

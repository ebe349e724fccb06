using System.Net;
using System.Text.Json;

namespace Personalizer.Api.Tests.Rules;

public sealed class RulesApiTests : IAsyncLifetime, IDisposable
{
    private const string VipHero = """
        { "slot": "home-hero", "priority": 10, "enabled": true,
          "when": "profile.orders >= 3 and context.device == 'mobile'",
          "then": { "variant": "vip-banner" } }
        """;

    private readonly PersonalizerApp _app = new();
    private HttpClient _admin = null!;
    private HttpClient _site = null!;

    public Task InitializeAsync()
    {
        _admin = _app.Client(PersonalizerApp.AdminKey);
        _site = _app.Client(PersonalizerApp.SiteKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _app.Dispose();

    private async Task BuyThreeTimes(string visitor)
    {
        var events = Enumerable.Range(0, 3).Select(i =>
            $$"""{"eventId":"{{visitor}}-o{{i}}","type":"purchase","visitorId":"{{visitor}}","orderId":"o{{i}}","lines":[{"itemId":"sku-yog-001","quantity":1,"price":10}]}""");
        await _site.PostJson("/v1/events", $$"""{"events":[{{string.Join(",", events)}}]}""").AssertStatus(HttpStatusCode.Accepted);
    }

    private async Task<JsonElement> Hero(string visitor, string device = "mobile", bool explain = false)
    {
        var response = await _site.PostJson($"/v1/decide{(explain ? "?explain=true" : "")}", $$"""{"visitorId":"{{visitor}}","context":{"device":"{{device}}"},"slots":["home-hero"]}""");
        return (await response.Json()).GetProperty("slots").GetProperty("home-hero");
    }

    [Fact]
    public async Task APublishedRuleChangesTheAnswerForMatchingVisitorsOnly()
    {
        await BuyThreeTimes("loyal");
        await _admin.PutJson("/v1/rules/vip-hero", VipHero).AssertStatus(HttpStatusCode.OK);

        var loyal = await Hero("loyal");
        Assert.Equal("vip-banner", loyal.GetProperty("variant").GetString());
        Assert.Equal("rule:vip-hero", loyal.GetProperty("source").GetString());
        Assert.Equal("generic", (await Hero("stranger")).GetProperty("variant").GetString());
        Assert.Equal("generic", (await Hero("loyal", device: "desktop")).GetProperty("variant").GetString());
    }

    [Fact]
    public async Task DisablingTheRuleOrEndingItsScheduleRestoresTheDefault()
    {
        await BuyThreeTimes("loyal");
        await _admin.PutJson("/v1/rules/vip-hero", VipHero).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("vip-banner", (await Hero("loyal")).GetProperty("variant").GetString());

        await _admin.PutJson("/v1/rules/vip-hero", VipHero.Replace("\"enabled\": true", "\"enabled\": false", StringComparison.Ordinal)).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("default", (await Hero("loyal")).GetProperty("source").GetString());

        var ended = VipHero.Replace("\"enabled\": true", """ "enabled": true, "schedule": { "from": "2020-01-01T00:00", "until": "2020-02-01T00:00", "timeZone": "Europe/Berlin" }""", StringComparison.Ordinal);
        await _admin.PutJson("/v1/rules/vip-hero", ended).AssertStatus(HttpStatusCode.OK);
        var hero = await Hero("loyal", explain: true);
        Assert.Equal("default", hero.GetProperty("source").GetString());
        Assert.Contains(hero.GetProperty("trace").EnumerateArray(), s => s.TryGetProperty("detail", out var d) && d.GetString() == "outside its schedule");
    }

    [Fact]
    public async Task ARollbackRestoresThePreviousBehaviour()
    {
        await BuyThreeTimes("loyal");
        var before = (await (await _admin.GetAsync("/v1/config/history")).Json())[0].GetProperty("version").GetInt32();
        await _admin.PutJson("/v1/rules/vip-hero", VipHero).AssertStatus(HttpStatusCode.OK);
        Assert.Equal("vip-banner", (await Hero("loyal")).GetProperty("variant").GetString());

        await _admin.PostAsync($"/v1/config/rollback/{before}", null).AssertStatus(HttpStatusCode.OK);

        Assert.Equal("generic", (await Hero("loyal")).GetProperty("variant").GetString());
        var history = await (await _admin.GetAsync("/v1/config/history")).Json();
        Assert.Equal($"rolled back to version {before}", history[0].GetProperty("summary").GetString());
        Assert.Equal("created rule vip-hero", history[1].GetProperty("summary").GetString());
    }

    [Fact]
    public async Task AnInvalidConditionIsA422WithItsPositionAndChangesNothing()
    {
        var before = (await (await _admin.GetAsync("/v1/config/history")).Json())[0].GetProperty("version").GetInt32();
        var response = await _admin.PutJson("/v1/rules/bad", """{"slot":"home-hero","when":"profile.orders >= 3 and\n  profile.device == 'mobile'","then":{"variant":"vip-banner"}}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await response.Json()).GetProperty("conditionErrors")[0];
        Assert.Equal(2, error.GetProperty("line").GetInt32());
        Assert.Equal(3, error.GetProperty("column").GetInt32());
        Assert.Contains("unknown field 'profile.device'", error.GetProperty("message").GetString());
        await _admin.GetAsync("/v1/rules/bad").AssertStatus(HttpStatusCode.NotFound);
        Assert.Equal(before, (await (await _admin.GetAsync("/v1/config/history")).Json())[0].GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ValidateAnswers200ForAGoodConditionAnd422ForABadOne()
    {
        var ok = await _admin.PostJson("/v1/rules/validate", """{"when":"profile.cart.value > 100 and context.url startsWith '/sale'"}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.True((await ok.Json()).GetProperty("valid").GetBoolean());

        var bad = await _admin.PostJson("/v1/rules/validate", """{"when":"profile.orders == 'three'"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var error = (await bad.Json()).GetProperty("conditionErrors")[0];
        Assert.Equal(16, error.GetProperty("column").GetInt32());
    }

    [Fact]
    public async Task RulesUseSegmentsAndAUsedSegmentCannotBeDeleted()
    {
        await BuyThreeTimes("loyal");
        await _admin.PutJson("/v1/segments/big-spenders", """{"description":"spent over 20","when":"profile.revenue > 20"}""").AssertStatus(HttpStatusCode.OK);
        await _admin.PutJson("/v1/rules/spenders", """{"slot":"home-hero","priority":5,"when":"segment('big-spenders')","then":{"variant":"welcome-back"}}""").AssertStatus(HttpStatusCode.OK);
        await _admin.PutJson("/v1/rules/vip-hero", VipHero).AssertStatus(HttpStatusCode.OK);

        var hero = await Hero("loyal", explain: true);
        Assert.Equal("rule:vip-hero", hero.GetProperty("source").GetString());
        var spenders = hero.GetProperty("trace").EnumerateArray().Single(s => s.GetProperty("strategy").GetString() == "rule:spenders");
        Assert.Equal("lost", spenders.GetProperty("outcome").GetString());
        Assert.Contains("lost to rule:vip-hero", spenders.GetProperty("detail").GetString());

        await _admin.DeleteAsync("/v1/segments/big-spenders").AssertStatus(HttpStatusCode.Conflict);
        await _admin.DeleteAsync("/v1/rules/spenders").AssertStatus(HttpStatusCode.NoContent);
        await _admin.DeleteAsync("/v1/segments/big-spenders").AssertStatus(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task ARuleCanSteerARecommendationsSlot()
    {
        await _admin.PutJson("/v1/rules/yoga-only", """{"slot":"home-recs","when":"context.utm.campaign == 'yoga-week'","then":{"includeCategories":["yoga"]}}""").AssertStatus(HttpStatusCode.OK);
        var body = await (await _site.PostJson("/v1/decide", """{"visitorId":"v","context":{"utm":{"campaign":"yoga-week"}},"slots":["home-recs"]}""")).Json();

        var recs = body.GetProperty("slots").GetProperty("home-recs");
        Assert.Equal("rule:yoga-only", recs.GetProperty("source").GetString());
        Assert.All(recs.GetProperty("items").EnumerateArray(), i => Assert.Equal("yoga", i.GetProperty("categories")[0].GetString()));
    }

    [Theory]
    [InlineData("""{"slot":"no-such-slot","when":"true","then":{"variant":"x"}}""", "slot")]
    [InlineData("""{"slot":"home-hero","when":"true","then":{"variant":"missing"}}""", "then.variant")]
    [InlineData("""{"slot":"home-hero","then":{"variant":"generic"}}""", "when")]
    [InlineData("""{"slot":"home-hero","when":"true","then":{"variant":"generic"},"schedule":{"timeZone":"Mars/Olympus"}}""", "schedule.timeZone")]
    [InlineData("""{"slot":"home-hero","when":"true","then":{"variant":"generic"},"schedule":{"from":"2026-02-01T00:00","until":"2026-01-01T00:00"}}""", "schedule.until")]
    [InlineData("""{"slot":"home-recs","when":"true","then":{"variant":"generic"}}""", "then.variant")]
    [InlineData("""{"slot":"home-hero","when":"true","priority":"high"}""", "priority")]
    public async Task BadRulesAreAProblemNamingTheField(string body, string field)
    {
        var response = await _admin.PutJson("/v1/rules/r1", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Theory]
    [InlineData("GET", "/v1/rules")]
    [InlineData("PUT", "/v1/rules/r1")]
    [InlineData("DELETE", "/v1/rules/r1")]
    [InlineData("POST", "/v1/rules/validate")]
    [InlineData("GET", "/v1/segments")]
    [InlineData("PUT", "/v1/segments/s1")]
    public async Task RulesAndSegmentsNeedAnAdminKey(string method, string url)
    {
        HttpRequestMessage Request() => new(new HttpMethod(method), url) { Content = method is "PUT" or "POST" ? new StringContent("""{"when":"true"}""", System.Text.Encoding.UTF8, "application/json") : null };
        await _site.SendAsync(Request()).AssertStatus(HttpStatusCode.Forbidden);
        await _app.Client(null).SendAsync(Request()).AssertStatus(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AnInvalidSegmentConditionIsA422()
    {
        var response = await _admin.PutJson("/v1/segments/s1", """{"when":"segment('s1')"}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }
}

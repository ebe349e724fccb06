using System.Net;

namespace Personalizer.Api.Tests.Decisions;

public sealed class PreviewApiTests() : ApiTest()
{

    [Fact]
    public async Task ATypedProfileIsDecidedForExplainedAndNotRecorded()
    {
        await Admin.PutJson("/v1/rules/big-buyers", """{"slot":"home-hero","when":"profile.orders >= 3 and profile.cart.items > 0","then":{"variant":"vip-banner"}}""").AssertStatus(HttpStatusCode.OK);
        var response = await Admin.PostJson("/v1/decide/preview", """
            {"visitorId":"what-if","slots":["home-hero","home-recs"],
             "profile":{"orders":4,"revenue":300,"daysSinceLastOrder":3,"cartItems":["sku-run-001"],"affinity":{"yoga":5},"excludedCategories":["running"]}}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var slots = (await response.Json()).GetProperty("slots");
        Assert.Equal("rule:big-buyers", slots.GetProperty("home-hero").GetProperty("source").GetString());
        Assert.NotEmpty(slots.GetProperty("home-hero").GetProperty("trace").EnumerateArray());
        Assert.DoesNotContain(slots.GetProperty("home-recs").GetProperty("items").EnumerateArray(),
            i => i.GetProperty("categories").EnumerateArray().Any(c => c.GetString() == "running"));

        // A stored visitor previewed: the same answer as a decide, but no impression is counted.
        await Site.PostJson("/v1/decide", """{"visitorId":"real","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        for (var i = 0; i < 3; i++)
        {
            await Admin.PostJson("/v1/decide/preview", """{"visitorId":"real","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        }
        long impressions = 0;
        for (var attempt = 0; attempt < 50 && impressions < 1; attempt++)
        {
            await Task.Delay(100);
            var report = await (await Admin.GetAsync("/v1/reports/slots")).Json();
            impressions = report.GetProperty("slots").EnumerateArray().Where(s => s.GetProperty("slot").GetString() == "home-hero").Sum(s => s.GetProperty("impressions").GetInt64());
        }
        await Task.Delay(700); // past the impression log's commit interval: nothing more arrives
        var final = await (await Admin.GetAsync("/v1/reports/slots")).Json();
        Assert.Equal(1, final.GetProperty("slots").EnumerateArray().Where(s => s.GetProperty("slot").GetString() == "home-hero").Sum(s => s.GetProperty("impressions").GetInt64()));
    }

    [Theory]
    [InlineData("""{"slots":["home-hero"],"profile":{"orders":-1}}""", "profile.orders")]
    [InlineData("""{"slots":["home-hero"],"profile":{"cartItems":["bad id"]}}""", "profile.cartItems[0]")]
    [InlineData("""{"slots":["home-hero"],"profile":{"orders":"many"}}""", "profile.orders")]
    [InlineData("""{"slots":[],"profile":{}}""", "slots")]
    public async Task BadPreviewsAreRefusedNamingTheField(string body, string field)
    {
        var response = await Admin.PostJson("/v1/decide/preview", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Fact]
    public async Task APreviewNeedsAnAdminKey() =>
        Assert.Equal(HttpStatusCode.Forbidden, (await Site.PostJson("/v1/decide/preview", """{"slots":["home-hero"]}""")).StatusCode);
}

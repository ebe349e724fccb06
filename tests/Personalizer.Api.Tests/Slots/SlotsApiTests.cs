using System.Net;

namespace Personalizer.Api.Tests.Slots;

public sealed class SlotsApiTests : IDisposable
{
    private const string Hero = """
        {"kind":"content","defaultVariant":"generic",
         "variants":[{"id":"generic","content":{"title":"New season"}},{"id":"vip-banner","content":{"title":"Welcome back"},"tags":["vip"]}]}
        """;

    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task EveryChangeMakesANewVersionThatTheNextDecideUses()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var before = (await (await admin.GetAsync("/v1/config/history")).Json())[0].GetProperty("version").GetInt32();

        var put = await (await admin.PutJson("/v1/slots/banner", Hero)).Json();
        Assert.Equal(before + 1, put.GetProperty("version").GetInt32());
        var decided = await (await _app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", """{"visitorId":"v","slots":["banner"]}""")).Json();
        Assert.Equal("New season", decided.GetProperty("slots").GetProperty("banner").GetProperty("content").GetProperty("title").GetString());

        await admin.DeleteAsync("/v1/slots/banner").AssertStatus(HttpStatusCode.NoContent);
        await admin.GetAsync("/v1/slots/banner").AssertStatus(HttpStatusCode.NotFound);
        var history = await (await admin.GetAsync("/v1/config/history")).Json();
        Assert.Equal(before + 2, history[0].GetProperty("version").GetInt32());
        Assert.Equal("deleted slot banner", history[0].GetProperty("summary").GetString());
        Assert.Contains("key ", history[0].GetProperty("author").GetString());
    }

    [Fact]
    public async Task ARollbackRestoresAnEarlierVersion()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var put = await (await admin.PutJson("/v1/slots/banner", Hero)).Json();
        await admin.DeleteAsync("/v1/slots/banner").AssertStatus(HttpStatusCode.NoContent);

        await admin.PostAsync($"/v1/config/rollback/{put.GetProperty("version").GetInt32()}", null).AssertStatus(HttpStatusCode.OK);

        var slot = await (await admin.GetAsync("/v1/slots/banner")).Json();
        Assert.Equal("generic", slot.GetProperty("defaultVariant").GetString());
        await admin.PostAsync("/v1/config/rollback/9999", null).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ListingShowsTheSeededSlots()
    {
        var slots = await (await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/slots")).Json();

        Assert.Equal(["cart-offer", "home-hero", "home-recs", "pdp-similar", "shop-grid"], slots.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray());
    }

    [Theory]
    [InlineData("""{"kind":"content","defaultVariant":"missing","variants":[{"id":"a","content":{}}]}""", "defaultVariant")]
    [InlineData("""{"kind":"content","defaultVariant":"a","variants":[{"id":"a","content":"text"}]}""", "variants[0].content")]
    [InlineData("""{"kind":"content","defaultVariant":"a","variants":[{"id":"a","content":{}},{"id":"a","content":{}}]}""", "variants[1].id")]
    [InlineData("""{"kind":"banner"}""", "kind")]
    [InlineData("""{"kind":"recommendations","strategy":"magic"}""", "strategy")]
    [InlineData("""{"kind":"recommendations","count":0}""", "count")]
    [InlineData("""{"kind":"recommendations","filters":{"maxPerCategory":-1}}""", "filters.maxPerCategory")]
    [InlineData("""{"kind":"recommendations","count":"ten"}""", "count")]
    public async Task BadSlotsAreAProblemNamingTheFieldAndChangeNothing(string body, string field)
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var response = await admin.PutJson("/v1/slots/s1", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
        await admin.GetAsync("/v1/slots/s1").AssertStatus(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("GET", "/v1/slots")]
    [InlineData("GET", "/v1/slots/home-hero")]
    [InlineData("PUT", "/v1/slots/home-hero")]
    [InlineData("DELETE", "/v1/slots/home-hero")]
    [InlineData("GET", "/v1/config/history")]
    [InlineData("POST", "/v1/config/rollback/1")]
    public async Task ConfigurationNeedsAnAdminKey(string method, string url)
    {
        HttpRequestMessage Request() => new(new HttpMethod(method), url) { Content = method is "PUT" ? new StringContent(Hero, System.Text.Encoding.UTF8, "application/json") : null };
        await _app.Client(PersonalizerApp.SiteKey).SendAsync(Request()).AssertStatus(HttpStatusCode.Forbidden);
        await _app.Client(null).SendAsync(Request()).AssertStatus(HttpStatusCode.Unauthorized);
    }
}

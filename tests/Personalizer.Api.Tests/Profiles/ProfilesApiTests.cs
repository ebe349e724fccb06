using System.Net;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Profiles;

public sealed class ProfilesApiTests : IDisposable
{
    private static readonly string[] Excluded = ["apparel", "camping", "cycling"];

    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AnUnknownVisitorIsNotFound()
    {
        var response = await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/nobody");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.ContentType()?.MediaType);
    }

    [Fact]
    public async Task ExportIsADownloadOfTheWholeProfile()
    {
        await _app.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "v-1"));
        var response = await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-1/export");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("attachment", response.Content.Headers.ContentDisposition?.ToString() ?? response.Headers.ToString());
        var body = await response.Json();
        Assert.Equal("demo", body.GetProperty("site").GetString());
        Assert.Equal(1, body.GetProperty("profile").GetProperty("pageViews").GetInt32());
    }

    [Fact]
    public async Task ErasureRemovesTheProfileAndReplayedEventsDoNotBringItBack()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        var admin = _app.Client(PersonalizerApp.AdminKey);
        await site.SendEvents(PageView("e-1", "v-1"));

        await admin.DeleteAsync("/v1/profiles/v-1").AssertStatus(HttpStatusCode.NoContent);
        await admin.GetAsync("/v1/profiles/v-1").AssertStatus(HttpStatusCode.NotFound);
        await site.SendEvents(PageView("e-1", "v-1"));
        await admin.GetAsync("/v1/profiles/v-1").AssertStatus(HttpStatusCode.NotFound);
        await admin.DeleteAsync("/v1/profiles/v-1").AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PreferencesAreStoredAndShownInTheProfile()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        await site.PutJson("/v1/visitors/v-1/preferences", """{"interests":["yoga"],"excludedCategories":["camping"],"tracking":"granted"}""").AssertStatus(HttpStatusCode.OK);

        var prefs = await (await site.GetAsync("/v1/visitors/v-1/preferences")).Json();
        Assert.Equal("camping", prefs.GetProperty("excludedCategories")[0].GetString());
        Assert.Equal("granted", prefs.GetProperty("tracking").GetString());
    }

    [Fact]
    public async Task AnExcludedCategoryNeverAppearsInRecommendations()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        await site.PutJson("/v1/visitors/v-1/preferences", """{"excludedCategories":["apparel","camping","cycling"]}""").AssertStatus(HttpStatusCode.OK);
        var body = await (await site.PostJson("/v1/decide", """{"visitorId":"v-1","slots":["home-recs"]}""")).Json();

        var items = body.GetProperty("slots").GetProperty("home-recs").GetProperty("items").EnumerateArray().ToList();
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.DoesNotContain(i.GetProperty("categories")[0].GetString(), Excluded));
    }

    [Theory]
    [InlineData("""{"tracking":"maybe"}""", "tracking")]
    [InlineData("""{"excludedCategories":["bad\ncategory"]}""", "excludedCategories[0]")]
    [InlineData("""{"personalization":"yes"}""", "personalization")]
    public async Task BadPreferencesAreAProblemNamingTheField(string body, string field)
    {
        var response = await _app.Client(PersonalizerApp.SiteKey).PutJson("/v1/visitors/v-1/preferences", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Fact]
    public async Task AnInvalidVisitorIdIsABadRequest()
    {
        var response = await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/" + new string('x', 200));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("visitorId", (await response.Errors()).Keys);
    }

    [Theory]
    [InlineData("GET", "/v1/profiles/v-1")]
    [InlineData("GET", "/v1/profiles/v-1/export")]
    [InlineData("DELETE", "/v1/profiles/v-1")]
    public async Task ASiteKeyMayNotReadOrEraseProfiles(string method, string url)
    {
        await _app.Client(PersonalizerApp.SiteKey).SendAsync(new HttpRequestMessage(new HttpMethod(method), url)).AssertStatus(HttpStatusCode.Forbidden);
        await _app.Client(null).SendAsync(new HttpRequestMessage(new HttpMethod(method), url)).AssertStatus(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PreferencesNeedAKey()
    {
        await _app.Client(null).PutJson("/v1/visitors/v-1/preferences", "{}").AssertStatus(HttpStatusCode.Unauthorized);
        await _app.Client("bogus-key-000").GetAsync("/v1/visitors/v-1/preferences").AssertStatus(HttpStatusCode.Unauthorized);
    }
}

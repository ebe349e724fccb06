using System.Net;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Sites;

public sealed class SiteIsolationTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AKeySeesNothingOfAnotherSite()
    {
        await _app.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "shared-visitor"));
        await _app.Client(PersonalizerApp.OtherAdminKey).PutJson("/v1/catalog/items", """{"items":[{"id":"only-other","title":"x"}]}""").AssertStatus(HttpStatusCode.OK);

        var other = _app.Client(PersonalizerApp.OtherAdminKey);
        await other.GetAsync("/v1/profiles/shared-visitor").AssertStatus(HttpStatusCode.NotFound);
        await other.GetAsync("/v1/catalog/items/sku-run-001").AssertStatus(HttpStatusCode.NotFound);
        await other.GetAsync("/v1/slots/home-hero").AssertStatus(HttpStatusCode.NotFound);
        await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/catalog/items/only-other").AssertStatus(HttpStatusCode.NotFound);

        var decided = await (await _app.Client(PersonalizerApp.OtherSiteKey).PostJson("/v1/decide", """{"visitorId":"shared-visitor","slots":["home-hero"]}""")).Json();
        Assert.Equal("home-hero", decided.GetProperty("unknownSlots")[0].GetString());
    }

    [Fact]
    public async Task TheSameEventIdInTwoSitesIsTwoEvents()
    {
        await _app.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "v"));
        var response = await (await _app.Client(PersonalizerApp.OtherSiteKey).SendEvents(PageView("e-1", "v"))).Json();

        Assert.Equal(1, response.GetProperty("accepted").GetInt32());
        var profile = await (await _app.Client(PersonalizerApp.OtherAdminKey).GetAsync("/v1/profiles/v")).Json();
        Assert.Equal(1, profile.GetProperty("pageViews").GetInt32());
    }
}

using System.Net;

namespace Personalizer.Api.Tests.Catalog;

public sealed class CatalogApiTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task UpsertedItemsCanBeReadBack()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var put = await admin.PutJson("/v1/catalog/items", """
            {"items":[{"id":"sku-1001","title":"Trail shoe","categories":["running","shoes"],"price":59.9,"currency":"EUR","inStock":true,
                       "tags":["new"],"url":"https://shop.example/p/sku-1001","imageUrl":"/img/sku-1001.jpg"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var item = await (await _app.Client(PersonalizerApp.SiteKey).GetAsync("/v1/catalog/items/sku-1001")).Json();
        Assert.Equal("Trail shoe", item.GetProperty("title").GetString());
        Assert.Equal("shoes", item.GetProperty("categories")[1].GetString());
    }

    [Fact]
    public async Task CategoryAndBrandNamesAreFreeTextAndWorkInFiltersAndExclusions()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var site = _app.Client(PersonalizerApp.SiteKey);
        await admin.PutJson("/v1/catalog/items", """
            {"items":[{"id":"toy-1","title":"Kite","categories":["  Children's  ","Home & Garden"],"brand":" Ünïcode Toys 🪁 ","price":9.5,"inStock":true},
                      {"id":"toy-2","title":"Ball","categories":["Children's"],"price":3,"inStock":true},
                      {"id":"mat-1","title":"Mat","categories":["Yoga / Pilates"],"price":20,"inStock":true}]}
            """).AssertStatus(HttpStatusCode.OK);

        var item = await (await site.GetAsync("/v1/catalog/items/toy-1")).Json();
        Assert.Equal("Children's", item.GetProperty("categories")[0].GetString());
        Assert.Equal("Home & Garden", item.GetProperty("categories")[1].GetString());
        Assert.Equal("Ünïcode Toys 🪁", item.GetProperty("brand").GetString());

        await admin.PutJson("/v1/slots/kids-strip", """
            {"kind":"recommendations","strategy":"trending","count":5,"filters":{"includeCategories":["Children's"]}}
            """).AssertStatus(HttpStatusCode.OK);
        await site.PutJson("/v1/visitors/v-kids/preferences", """{"excludedCategories":[" Home & Garden "]}""").AssertStatus(HttpStatusCode.OK);
        var decided = await (await site.PostJson("/v1/decide", """{"visitorId":"v-kids","slots":["kids-strip"]}""")).Json();
        var ids = decided.GetProperty("slots").GetProperty("kids-strip").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()).ToList();
        Assert.Equal(["toy-2"], ids);
    }

    [Theory]
    [InlineData("""{"items":[{"id":"a","title":"","price":1}]}""", "items[0].title")]
    [InlineData("""{"items":[{"title":"x"}]}""", "items[0].id")]
    [InlineData("""{"items":[{"id":"a","title":"x","url":"javascript:alert(1)"}]}""", "items[0].url")]
    [InlineData("""{"items":[{"id":"a","title":"x","price":-1}]}""", "items[0].price")]
    [InlineData("""{"items":[{"id":"a","title":"x"},{"id":"a","title":"y"}]}""", "items[1].id")]
    [InlineData("""{"items":[{"id":"a","title":"x","categories":"shoes"}]}""", "items[0].categories")]
    [InlineData("""{"items":[]}""", "items")]
    [InlineData("""{"items":[{"id":"a","title":"x","categories":["   "]}]}""", "items[0].categories[0]")]
    [InlineData("""{"items":[{"id":"a","title":"x","categories":["tab\there"]}]}""", "items[0].categories[0]")]
    [InlineData("""{"items":[{"id":"a","title":"x","brand":"\u0007"}]}""", "items[0].brand")]
    public async Task BadItemsAreAProblemNamingTheField(string body, string field)
    {
        var response = await _app.Client(PersonalizerApp.AdminKey).PutJson("/v1/catalog/items", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }

    [Fact]
    public async Task AnUnknownItemIsNotFound()
    {
        await _app.Client(PersonalizerApp.SiteKey).GetAsync("/v1/catalog/items/nope").AssertStatus(HttpStatusCode.NotFound);
        await _app.Client(PersonalizerApp.SiteKey).GetAsync("/v1/catalog/items/bad%20id").AssertStatus(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OnlyAnAdminKeyMayChangeTheCatalogue()
    {
        const string body = """{"items":[{"id":"a","title":"x"}]}""";
        await _app.Client(PersonalizerApp.SiteKey).PutJson("/v1/catalog/items", body).AssertStatus(HttpStatusCode.Forbidden);
        await _app.Client(null).PutJson("/v1/catalog/items", body).AssertStatus(HttpStatusCode.Unauthorized);
        await _app.Client(null).GetAsync("/v1/catalog/items/a").AssertStatus(HttpStatusCode.Unauthorized);
    }
}

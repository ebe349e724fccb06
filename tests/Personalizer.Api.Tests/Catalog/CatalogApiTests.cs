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

    [Theory]
    [InlineData("""{"items":[{"id":"a","title":"","price":1}]}""", "items[0].title")]
    [InlineData("""{"items":[{"title":"x"}]}""", "items[0].id")]
    [InlineData("""{"items":[{"id":"a","title":"x","url":"javascript:alert(1)"}]}""", "items[0].url")]
    [InlineData("""{"items":[{"id":"a","title":"x","price":-1}]}""", "items[0].price")]
    [InlineData("""{"items":[{"id":"a","title":"x"},{"id":"a","title":"y"}]}""", "items[1].id")]
    [InlineData("""{"items":[{"id":"a","title":"x","categories":"shoes"}]}""", "items[0].categories")]
    [InlineData("""{"items":[]}""", "items")]
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

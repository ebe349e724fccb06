using System.Net;
using System.Text.Json;

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
    public async Task SingleFieldsArePatchedAndTheRestStays()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/catalog/items", """{"items":[{"id":"p-1","title":"Tent","categories":["Camping"],"brand":"Acme","price":120,"inStock":true}]}""")
            .AssertStatus(HttpStatusCode.OK);

        var patched = await (await admin.PatchAsync("/v1/catalog/items/p-1", Json("""{"inStock":false,"price":99.5}"""))).Json();
        Assert.False(patched.GetProperty("inStock").GetBoolean());
        Assert.Equal(99.5, patched.GetProperty("price").GetDouble());
        Assert.Equal("Tent", patched.GetProperty("title").GetString());
        Assert.Equal("Acme", patched.GetProperty("brand").GetString());

        var read = await (await _app.Client(PersonalizerApp.SiteKey).GetAsync("/v1/catalog/items/p-1")).Json();
        Assert.False(read.GetProperty("inStock").GetBoolean());
        Assert.Equal("Camping", read.GetProperty("categories")[0].GetString());

        var withAttributes = await (await admin.PatchAsync("/v1/catalog/items/p-1", Json("""{"attributes":{"season":"winter","persons":3}}"""))).Json();
        Assert.Equal(3, withAttributes.GetProperty("attributes").GetProperty("persons").GetInt32());
        Assert.Equal(99.5, withAttributes.GetProperty("price").GetDouble());
        var badAttributes = await admin.PatchAsync("/v1/catalog/items/p-1", Json("""{"attributes":{"persons":[true]}}"""));
        Assert.Contains("attributes.persons[0]", (await badAttributes.Errors()).Keys);

        var bad = await admin.PatchAsync("/v1/catalog/items/p-1", Json("""{"price":-3}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("price", (await bad.Errors()).Keys);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsync("/v1/catalog/items/nobody", Json("""{"price":3}"""))).StatusCode);
    }

    [Fact]
    public async Task AnItemOutOfStockOrDeletedIsNoLongerRecommended()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var site = _app.Client(PersonalizerApp.SiteKey);
        await admin.PutJson("/v1/catalog/items", """
            {"items":[{"id":"z-1","title":"A","categories":["Zeta"],"price":1},{"id":"z-2","title":"B","categories":["Zeta"],"price":1},{"id":"z-3","title":"C","categories":["Zeta"],"price":1}]}
            """).AssertStatus(HttpStatusCode.OK);
        async Task<List<string>> Listed() => [.. (await (await site.GetAsync("/v1/recommendations/v-z?strategy=trending&count=10&includeCategories=Zeta")).Json())
            .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];
        Assert.Equal(["z-1", "z-2", "z-3"], (await Listed()).Order());

        await admin.PatchAsync("/v1/catalog/items/z-1", Json("""{"inStock":false}""")).AssertStatus(HttpStatusCode.OK);
        await admin.DeleteAsync("/v1/catalog/items/z-2").AssertStatus(HttpStatusCode.NoContent);

        Assert.Equal(["z-3"], await Listed());
        await site.GetAsync("/v1/catalog/items/z-2").AssertStatus(HttpStatusCode.NotFound);
        await admin.DeleteAsync("/v1/catalog/items/z-2").AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheCatalogueIsListedPageByPageWithEveryItemOnce()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var items = string.Join(",", Enumerable.Range(0, 250).Select(k => $$"""{"id":"l-{{k:D3}}","title":"{{(k % 10 == 0 ? "Blue kite" : "Item")}} {{k}}","price":1}"""));
        await admin.PutJson("/v1/catalog/items", $$"""{"items":[{{items}}]}""").AssertStatus(HttpStatusCode.OK);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await admin.GetAsync("/v1/catalog/items?limit=60&q=l-" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))).Json();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            Assert.Equal(250, page.GetProperty("total").GetInt32());
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == System.Text.Json.JsonValueKind.String ? next.GetString() : null;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(5, pages);
        Assert.Equal(Enumerable.Range(0, 250).Select(k => $"l-{k:D3}"), seen);
        var kites = await (await admin.GetAsync("/v1/catalog/items?q=blue%20KITE")).Json();
        Assert.Equal(25, kites.GetProperty("total").GetInt32());
        await admin.GetAsync("/v1/catalog/items?limit=0").AssertStatus(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AFeedIsImportedAsNdjsonOrCsvWholeOrNotAtAll()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var ndjson = string.Join("\n", Enumerable.Range(0, 2500).Select(k => $$"""{"id":"feed-{{k}}","title":"Item {{k}}","categories":["Feed"],"price":{{k % 90 + 1}}}"""));
        var put = await admin.PutAsync("/v1/catalog/feed", new StringContent(ndjson, System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(2500, (await put.Json()).GetProperty("upserted").GetInt32());
        Assert.Equal(2500, (await (await admin.GetAsync("/v1/catalog/items?q=feed-&limit=1")).Json()).GetProperty("total").GetInt32());

        const string csv = "id,title,categories,price,inStock,brand,attributes.material,attributes.weight,attributes.foldable,attributes.colours\n"
            + "csv-1,\"Chair, folding\",\"Home & Garden|Camping\",19.5,true,Acme,steel,2.5,true,red|blue\n"
            + "csv-2,\"The \"\"best\"\" mat\",Yoga,30,0,,,,,\n";
        await admin.PutAsync("/v1/catalog/feed", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv")).AssertStatus(HttpStatusCode.OK);
        var chair = await (await admin.GetAsync("/v1/catalog/items/csv-1")).Json();
        Assert.Equal("Chair, folding", chair.GetProperty("title").GetString());
        Assert.Equal("Camping", chair.GetProperty("categories")[1].GetString());
        var attributes = chair.GetProperty("attributes");
        Assert.Equal("steel", attributes.GetProperty("material").GetString());
        Assert.Equal(2.5, attributes.GetProperty("weight").GetDouble());
        Assert.True(attributes.GetProperty("foldable").GetBoolean());
        Assert.Equal("blue", attributes.GetProperty("colours")[1].GetString());
        var mat = await (await admin.GetAsync("/v1/catalog/items/csv-2")).Json();
        Assert.False(mat.TryGetProperty("attributes", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.Equal("The \"best\" mat", mat.GetProperty("title").GetString());
        Assert.False(mat.GetProperty("inStock").GetBoolean());

        // One bad line refuses the whole feed, naming the line and field.
        const string broken = "id,title,price\nok-1,Fine,3\nok-2,Broken,cheap\n";
        var refused = await admin.PutAsync("/v1/catalog/feed", new StringContent(broken, System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("lines[3].price", (await refused.Errors()).Keys);
        await admin.GetAsync("/v1/catalog/items/ok-1").AssertStatus(HttpStatusCode.NotFound);
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

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

using System.Net;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Recommendations;

/// <summary>Each per-request filter and boost of <c>GET /v1/recommendations</c>, over HTTP.</summary>
public sealed class RecommendationFiltersTests : IAsyncLifetime, IDisposable
{
    private const string Scope = "includeCategories=Trail%20Running&includeCategories=Children%27s&includeCategories=Home%20%26%20Garden";
    private readonly PersonalizerApp _app = new(settings: new() { ["Personalizer:Recommendations:TrainIntervalMinutes"] = "0" });
    private HttpClient _site = null!;

    public async Task InitializeAsync()
    {
        _site = _app.Client(PersonalizerApp.SiteKey);
        await _app.Client(PersonalizerApp.AdminKey).PutJson("/v1/catalog/items", """
            {"items":[
              {"id":"f-run-1","title":"Trail shoe","categories":["Trail Running"],"brand":"Summit","tags":["waterproof"],"price":50,"inStock":true},
              {"id":"f-run-2","title":"Trail vest","categories":["Trail Running"],"brand":"Peak","price":120,"inStock":true},
              {"id":"f-run-3","title":"Trail poles","categories":["Trail Running"],"brand":"Summit","price":80,"inStock":false},
              {"id":"f-kid-1","title":"Kids kite","categories":["Children's"],"brand":"Peak","tags":["new"],"price":15,"inStock":true},
              {"id":"f-kid-2","title":"Kids ball","categories":["Children's"],"brand":"Summit","price":25,"inStock":true},
              {"id":"f-home-1","title":"Garden chair","categories":["Home & Garden"],"brand":"Acme","price":200,"inStock":true}]}
            """).AssertStatus(HttpStatusCode.OK);
        await _site.SendEvents(
            ProductView("v1", "shopper", "f-run-2"),
            """{"eventId":"c1","type":"add_to_cart","visitorId":"shopper","itemId":"f-kid-2","quantity":1,"price":25}""",
            """{"eventId":"p1","type":"purchase","visitorId":"shopper","orderId":"o1","lines":[{"itemId":"f-home-1","quantity":1,"price":200}]}""")
            .AssertStatus(HttpStatusCode.Accepted);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _app.Dispose();

    private async Task<List<string>> Listed(string query, string visitor = "shopper")
    {
        var response = await _site.GetAsync($"/v1/recommendations/{visitor}?strategy=trending&count=50&{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Json();
        return [.. body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!).Where(id => id.StartsWith("f-", StringComparison.Ordinal) || id.StartsWith("a-", StringComparison.Ordinal))];
    }

    [Theory]
    // The defaults: in stock only, purchased and in-cart items left out.
    [InlineData("", "f-run-1,f-run-2,f-kid-1")]
    [InlineData("includeCategories=Children%27s", "f-kid-1")]
    [InlineData("excludeCategories=Trail%20Running", "f-kid-1")]
    [InlineData("includeBrands=Summit", "f-run-1")]
    [InlineData("excludeBrands=Summit", "f-run-2,f-kid-1")]
    [InlineData("includeTags=waterproof&includeTags=new", "f-run-1,f-kid-1")]
    [InlineData("excludeTags=new", "f-run-1,f-run-2")]
    [InlineData("minPrice=20&maxPrice=100", "f-run-1")]
    [InlineData("inStock=false", "f-run-1,f-run-2,f-run-3,f-kid-1")]
    [InlineData("excludePurchased=false", "f-run-1,f-run-2,f-kid-1,f-home-1")]
    [InlineData("excludeInCart=false", "f-run-1,f-run-2,f-kid-1,f-kid-2")]
    [InlineData("excludeViewed=true", "f-run-1,f-kid-1")]
    [InlineData("maxPerCategory=1", "f-kid-1")]
    public async Task EachFilterKeepsWhatItSays(string filter, string expected)
    {
        var listed = await Listed(filter.StartsWith("includeCategories", StringComparison.Ordinal) ? filter : Scope + (filter.Length > 0 ? "&" + filter : ""));

        if (filter == "maxPerCategory=1")
        {
            // One of each category: one trail item (whichever ranks first) and the kite.
            Assert.Equal(2, listed.Count);
            Assert.Contains("f-kid-1", listed);
            Assert.Single(listed, id => id.StartsWith("f-run-", StringComparison.Ordinal));
            return;
        }
        Assert.Equal(expected.Split(',').Order(), listed.Order());
    }

    [Fact]
    public async Task ABoostedCategoryComesFirstEvenWhenTheRankingNeverReachesIt()
    {
        // Make trail items the trend, far ahead of anything for children.
        var views = Enumerable.Range(0, 60).Select(k => ProductView($"t{k}", $"trend-{k}", k % 2 == 0 ? "f-run-1" : "f-run-2")).ToArray();
        await _site.SendEvents(views).AssertStatus(HttpStatusCode.Accepted);

        var plain = await Listed(Scope, visitor: "newcomer");
        var boosted = await Listed(Scope + "&boostCategories=Children%27s", visitor: "newcomer");

        // The kite has no events at all: the trend never ranks it, only the catalogue's fill reaches it.
        Assert.True(plain.IndexOf("f-kid-1") >= 2, string.Join(", ", plain));
        Assert.Equal(["f-kid-1", "f-kid-2"], boosted.Take(2).Order());
        Assert.Equal(plain.Order(), boosted.Order());
    }

    [Fact]
    public async Task CustomAttributesAreKeptTypedAndFilterTheList()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/catalog/items", """
            {"items":[
              {"id":"a-1","title":"Wool socks","categories":["Attr"],"price":9,"attributes":{"material":"Wool","waterproof":false,"weight":0.1,"sizes":["S","M"]}},
              {"id":"a-2","title":"Shell jacket","categories":["Attr"],"price":99,"attributes":{"material":"nylon","waterproof":true,"weight":0.45,"sizes":["M","L"]}},
              {"id":"a-3","title":"Plain tee","categories":["Attr"],"price":15}]}
            """).AssertStatus(HttpStatusCode.OK);

        var jacket = await (await _site.GetAsync("/v1/catalog/items/a-2")).Json();
        var attributes = jacket.GetProperty("attributes");
        Assert.True(attributes.GetProperty("waterproof").GetBoolean());
        Assert.Equal(0.45, attributes.GetProperty("weight").GetDouble());
        Assert.Equal("L", attributes.GetProperty("sizes")[1].GetString());

        const string scope = "includeCategories=Attr";
        Assert.Equal(["a-1"], await Listed(scope + "&attribute=material:wool"));
        Assert.Equal(["a-2"], await Listed(scope + "&attribute=waterproof:true"));
        Assert.Equal(["a-1", "a-2"], (await Listed(scope + "&attribute=sizes:M")).Order());
        Assert.Equal(["a-2"], await Listed(scope + "&attribute=sizes:M&attribute=weight:0.45"));
        Assert.Empty(await Listed(scope + "&attribute=colour:red"));

        var bad = await admin.PutJson("/v1/catalog/items", """{"items":[{"id":"a-9","title":"x","attributes":{"nested":{"no":1}}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("items[0].attributes.nested", (await bad.Errors()).Keys);
        Assert.Equal(HttpStatusCode.BadRequest, (await _site.GetAsync("/v1/recommendations/x?strategy=trending&attribute=nocolon")).StatusCode);
    }

    [Fact]
    public async Task ARecommendationRuleFiltersAndBoostsByItemFields()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/catalog/items", """
            {"items":[
              {"id":"r-1","title":"Light socks","categories":["Rule Attr"],"brand":"Peak","price":9,"attributes":{"weight":0.1,"sizes":["S"]}},
              {"id":"r-2","title":"Rain shell","categories":["Rule Attr"],"brand":"Summit","price":99,"attributes":{"waterproof":true,"weight":0.45,"sizes":["M","L"]}},
              {"id":"r-3","title":"Heavy coat","categories":["Rule Attr"],"brand":"Peak","price":150,"attributes":{"weight":2}},
              {"id":"r-4","title":"Plain tee","categories":["Rule Attr"],"brand":"Acme","price":15}]}
            """).AssertStatus(HttpStatusCode.OK);
        await admin.PutJson("/v1/slots/rule-attr", """{"kind":"recommendations","strategy":"trending","count":10,"filters":{"includeCategories":["Rule Attr"]}}""")
            .AssertStatus(HttpStatusCode.OK);
        await admin.PutJson("/v1/rules/light-or-dry", """
            {"slot":"rule-attr","when":"context.utm.campaign == 'rain'",
             "then":{"items":"item.attributes.weight < 0.5 or item.attributes.waterproof","boostItems":"item.attributes.sizes contains 'l' and item.brand != 'Acme'"}}
            """).AssertStatus(HttpStatusCode.OK);

        async Task<List<string>> Decide(string campaign)
        {
            var body = await (await _site.PostJson("/v1/decide", $$$"""{"visitorId":"rainy","context":{"utm":{"campaign":"{{{campaign}}}"}},"slots":["rule-attr"]}""")).Json();
            var slot = body.GetProperty("slots").GetProperty("rule-attr");
            return [.. slot.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];
        }

        // The rule holds: only light or waterproof items (no attribute: no match), the L size first.
        Assert.Equal(["r-2", "r-1"], await Decide("rain"));
        // It does not: the whole category.
        Assert.Equal(["r-1", "r-2", "r-3", "r-4"], (await Decide("sun")).Order());

        var stored = await (await admin.GetAsync("/v1/rules/light-or-dry")).Json();
        Assert.Equal("item.attributes.weight < 0.5 or item.attributes.waterproof", stored.GetProperty("then").GetProperty("items").GetString());

        var misspelt = await admin.PutJson("/v1/rules/bad-items", """{"slot":"rule-attr","when":"true","then":{"boostItems":"item.colour == 'red'"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, misspelt.StatusCode);
        Assert.Contains("then.boostItems", (await misspelt.Errors()).Keys);
        var outside = await admin.PutJson("/v1/rules/bad-when", """{"slot":"rule-attr","when":"item.price < 10","then":{}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, outside.StatusCode);
        Assert.Contains("only a recommendation rule's then.items", (await outside.Errors())["when"][0]);
    }

    [Fact]
    public async Task ASlotsOwnFiltersHoldInDecide()
    {
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var put = await admin.PutJson("/v1/slots/summit-deals", """
            {"kind":"recommendations","strategy":"trending","count":10,
             "filters":{"includeCategories":["Trail Running","Children's"],"includeBrands":[" Summit "],"maxPrice":60,"excludeTags":["waterproof"]}}
            """);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var filters = (await (await admin.GetAsync("/v1/slots/summit-deals")).Json()).GetProperty("filters");
        Assert.Equal("Summit", filters.GetProperty("includeBrands")[0].GetString());
        Assert.Equal(60, filters.GetProperty("maxPrice").GetDouble());

        var decided = await (await _site.PostJson("/v1/decide", """{"visitorId":"newcomer","slots":["summit-deals"]}""")).Json();
        var ids = decided.GetProperty("slots").GetProperty("summit-deals").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()).ToList();
        // f-run-1 is waterproof, f-run-3 is out of stock: only the Summit ball is left.
        Assert.Equal(["f-kid-2"], ids);

        var bad = await admin.PutJson("/v1/slots/bad-deals", """{"kind":"recommendations","filters":{"minPrice":80,"maxPrice":10}}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("filters.minPrice", (await bad.Errors()).Keys);
    }

    [Theory]
    [InlineData("minPrice=-1", "minPrice")]
    [InlineData("maxPrice=cheap", "maxPrice")]
    [InlineData("minPrice=50&maxPrice=10", "minPrice")]
    [InlineData("inStock=maybe", "inStock")]
    [InlineData("maxPerCategory=500", "maxPerCategory")]
    [InlineData("excludeCategories=%20%20", "excludeCategories")]
    public async Task ABadFilterIsAProblemNamingTheParameter(string query, string field)
    {
        var response = await _site.GetAsync($"/v1/recommendations/shopper?strategy=trending&{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }
}

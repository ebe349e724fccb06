using System.Net;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Recommendations;

/// <summary>
/// A page's own filters and boosts for a recommendations slot of <c>POST /v1/decide</c> (<c>filters.SLOT</c>):
/// each narrows the slot for that decide; none widens what the slot's own filters leave out.
/// </summary>
public sealed class DecidePageFiltersTests : IAsyncLifetime, IDisposable
{
    private readonly PersonalizerApp _app = new(settings: new() { ["Personalizer:Recommendations:TrainIntervalMinutes"] = "0" });
    private HttpClient _site = null!;

    public async Task InitializeAsync()
    {
        _site = _app.Client(PersonalizerApp.SiteKey);
        var admin = _app.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/catalog/items", """
            {"items":[
              {"id":"f-run-1","title":"Trail shoe","categories":["Trail Running"],"brand":"Summit","tags":["waterproof"],"price":50,"inStock":true,"attributes":{"material":"mesh"}},
              {"id":"f-run-2","title":"Trail vest","categories":["Trail Running"],"brand":"Peak","price":120,"inStock":true},
              {"id":"f-run-3","title":"Trail poles","categories":["Trail Running"],"brand":"Summit","price":80,"inStock":false},
              {"id":"f-kid-1","title":"Kids kite","categories":["Children's"],"brand":"Peak","tags":["new"],"price":15,"inStock":true},
              {"id":"f-kid-2","title":"Kids ball","categories":["Children's"],"brand":"Summit","price":25,"inStock":true},
              {"id":"f-home-1","title":"Garden chair","categories":["Home & Garden"],"brand":"Acme","price":200,"inStock":true}]}
            """).AssertStatus(HttpStatusCode.OK);
        // The slot itself lists the three categories and leaves nothing else out (so each page filter shows alone).
        await admin.PutJson("/v1/slots/page-recs", """
            {"kind":"recommendations","strategy":"trending","count":20,
             "filters":{"includeCategories":["Trail Running","Children's","Home & Garden"],"excludePurchased":false,"excludeInCart":false,"inStockOnly":false}}
            """).AssertStatus(HttpStatusCode.OK);
        // A slot whose own filters keep stock and purchases out.
        await admin.PutJson("/v1/slots/strict-recs", """
            {"kind":"recommendations","strategy":"trending","count":20,
             "filters":{"includeCategories":["Trail Running","Children's","Home & Garden"],"excludePurchased":true,"inStockOnly":true}}
            """).AssertStatus(HttpStatusCode.OK);
        await _site.SendEvents(
            ProductView("v1", "shopper", "f-run-2"),
            """{"eventId":"c1","type":"add_to_cart","visitorId":"shopper","itemId":"f-kid-2","quantity":1,"price":25}""",
            """{"eventId":"p1","type":"purchase","visitorId":"shopper","orderId":"o1","lines":[{"itemId":"f-home-1","quantity":1,"price":200}]}""")
            .AssertStatus(HttpStatusCode.Accepted);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _app.Dispose();

    private async Task<List<string>> Decided(string slot, string filters, string visitor = "shopper")
    {
        var response = await _site.PostJson("/v1/decide", $$$"""{"visitorId":"{{{visitor}}}","slots":["{{{slot}}}","home-hero"],"filters":{"{{{slot}}}":{{{filters}}}}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Json();
        return [.. body.GetProperty("slots").GetProperty(slot).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];
    }

    [Theory]
    [InlineData("{}", "f-run-1,f-run-2,f-run-3,f-kid-1,f-kid-2,f-home-1")]
    [InlineData("""{"includeCategories":["Children's"]}""", "f-kid-1,f-kid-2")]
    [InlineData("""{"excludeCategories":["Trail Running"," Home & Garden "]}""", "f-kid-1,f-kid-2")]
    [InlineData("""{"includeBrands":["Summit"]}""", "f-run-1,f-run-3,f-kid-2")]
    [InlineData("""{"excludeBrands":["Summit","Acme"]}""", "f-run-2,f-kid-1")]
    [InlineData("""{"includeTags":["waterproof","new"]}""", "f-run-1,f-kid-1")]
    [InlineData("""{"excludeTags":["new","waterproof"]}""", "f-run-2,f-run-3,f-kid-2,f-home-1")]
    [InlineData("""{"attributes":["material:MESH"]}""", "f-run-1")]
    [InlineData("""{"minPrice":20,"maxPrice":100}""", "f-run-1,f-run-3,f-kid-2")]
    [InlineData("""{"inStockOnly":true}""", "f-run-1,f-run-2,f-kid-1,f-kid-2,f-home-1")]
    [InlineData("""{"excludePurchased":true}""", "f-run-1,f-run-2,f-run-3,f-kid-1,f-kid-2")]
    [InlineData("""{"excludeInCart":true}""", "f-run-1,f-run-2,f-run-3,f-kid-1,f-home-1")]
    [InlineData("""{"excludeRecentlyViewed":true}""", "f-run-1,f-run-3,f-kid-1,f-kid-2,f-home-1")]
    public async Task EachPageFilterNarrowsTheSlotForThatDecide(string filters, string expected)
    {
        var listed = await Decided("page-recs", filters);

        Assert.Equal(expected.Split(',').Order(), listed.Where(id => id.StartsWith("f-", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public async Task MaxPerCategoryKeepsTheTighterOfTheSlotsAndThePages()
    {
        var listed = await Decided("page-recs", """{"maxPerCategory":1}""");

        Assert.Equal(3, listed.Count);
        Assert.Single(listed, id => id.StartsWith("f-run-", StringComparison.Ordinal));
        Assert.Single(listed, id => id.StartsWith("f-kid-", StringComparison.Ordinal));
        Assert.Contains("f-home-1", listed);
    }

    [Fact]
    public async Task APageCannotWidenWhatTheSlotLeavesOut()
    {
        // The page says nothing of stock or purchases, or asks for the opposite: the slot's own filters still hold.
        var listed = await Decided("strict-recs", """{"inStockOnly":false,"excludePurchased":false,"excludeCategories":["Children's"]}""");

        Assert.Equal(["f-run-1", "f-run-2"], listed.Order());
    }

    [Fact]
    public async Task APageBoostListsItsCategoryFirstEvenWhenTheRankingNeverReachesIt()
    {
        // Trail items are the trend.
        await _site.SendEvents([.. Enumerable.Range(0, 40).Select(k => ProductView($"t{k}", $"trend-{k}", k % 2 == 0 ? "f-run-1" : "f-run-2"))])
            .AssertStatus(HttpStatusCode.Accepted);

        var plain = await Decided("page-recs", "{}", visitor: "newcomer");
        var boosted = await Decided("page-recs", """{"boostCategories":["Children's"]}""", visitor: "newcomer");

        // The kite has no events at all: only the catalogue's fill reaches it.
        Assert.True(plain.IndexOf("f-kid-1") >= 2, string.Join(", ", plain));
        Assert.Equal(["f-kid-1", "f-kid-2"], boosted.Take(2).Order());
        Assert.Equal(plain.Order(), boosted.Order());
    }

    [Fact]
    public async Task PageFiltersHoldForOneDecideOnly()
    {
        var narrowed = await Decided("page-recs", """{"includeCategories":["Children's"]}""");
        var next = await (await _site.PostJson("/v1/decide", """{"visitorId":"shopper","slots":["page-recs"]}""")).Json();

        Assert.Equal(["f-kid-1", "f-kid-2"], narrowed.Order());
        Assert.Equal(6, next.GetProperty("slots").GetProperty("page-recs").GetProperty("items").EnumerateArray()
            .Count(i => i.GetProperty("itemId").GetString()!.StartsWith("f-", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"other-recs":{}}}""", "filters.other-recs")]
    [InlineData("""{"visitorId":"x","slots":["home-hero"],"filters":{"home-hero":{"excludeCategories":["Yoga"]}}}""", "filters.home-hero")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"minPrice":50,"maxPrice":10}}}""", "filters.page-recs.minPrice")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"maxPrice":-1}}}""", "filters.page-recs.maxPrice")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"maxPerCategory":500}}}""", "filters.page-recs.maxPerCategory")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"excludeCategories":["  "]}}}""", "filters.page-recs.excludeCategories[0]")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"attributes":["nocolon"]}}}""", "filters.page-recs.attributes[0]")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":{"boostCategories":[""]}}}""", "filters.page-recs.boostCategories[0]")]
    [InlineData("""{"visitorId":"x","slots":["page-recs"],"filters":{"page-recs":null}}""", "filters.page-recs")]
    public async Task ABadPageFilterIsAProblemNamingIt(string body, string field)
    {
        var response = await _site.PostJson("/v1/decide", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Errors()).Keys);
    }
}

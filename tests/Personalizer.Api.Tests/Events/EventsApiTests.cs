using System.Net;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Events;

public sealed class EventsApiTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task EventsPostedForAVisitorAreVisibleInTheirProfile()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        var response = await site.PostJson("/v1/events", """
            { "events": [
              { "eventId": "e-1", "type": "product_view", "visitorId": "v-42", "itemId": "sku-run-001", "context": { "device": "mobile" } },
              { "eventId": "e-2", "type": "add_to_cart", "visitorId": "v-42", "itemId": "sku-run-002", "quantity": 2, "price": 59.90 },
              { "eventId": "e-3", "type": "purchase", "visitorId": "v-42", "orderId": "o-7",
                "lines": [ { "itemId": "sku-run-003", "quantity": 1, "price": 20 } ], "revenue": 20, "currency": "EUR" },
              { "eventId": "e-4", "type": "search", "visitorId": "v-42", "query": "trail shoes" },
              { "eventId": "e-5", "type": "identify", "visitorId": "v-42", "customerId": "c-9001" } ] }
            """);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(5, (await response.Json()).GetProperty("accepted").GetInt32());
        var profile = await (await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-42")).Json();
        Assert.Equal("c-9001", profile.GetProperty("customerId").GetString());
        Assert.Equal(1, profile.GetProperty("orders").GetInt32());
        Assert.Equal(20, profile.GetProperty("revenue").GetDouble());
        Assert.Equal("sku-run-002", profile.GetProperty("cart")[0].GetProperty("itemId").GetString());
        Assert.Equal("sku-run-001", profile.GetProperty("recentlyViewed")[0].GetProperty("itemId").GetString());
        Assert.Equal("running", profile.GetProperty("affinity")[0].GetProperty("category").GetString());
        Assert.Equal("trail shoes", profile.GetProperty("recentSearches")[0].GetString());
    }

    [Fact]
    public async Task ABeaconSentAsTextPlainWithTheKeyInTheQueryIsAccepted()
    {
        // What navigator.sendBeacon sends: no headers of its own, the body as text/plain, the site key in the URL.
        using var anonymous = _app.CreateClient();
        using var content = new StringContent("""{"events":[{"eventId":"b-1","type":"add_to_cart","visitorId":"v-beacon","itemId":"sku-run-001","quantity":1,"price":10}]}""",
            System.Text.Encoding.UTF8, "text/plain");
        var response = await anonymous.PostAsync($"/v1/events?key={PersonalizerApp.SiteKey}", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var profile = await (await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-beacon")).Json();
        Assert.Equal("sku-run-001", profile.GetProperty("cart")[0].GetProperty("itemId").GetString());

        // An admin key never travels in a URL.
        using var admin = new StringContent("""{"events":[]}""", System.Text.Encoding.UTF8, "text/plain");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/v1/events?key={PersonalizerApp.AdminKey}", admin)).StatusCode);
    }

    [Fact]
    public async Task ARepeatedEventIdIsAppliedOnce()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        await site.SendEvents(PageView("e-1", "v-1"));
        var again = await site.SendEvents(PageView("e-1", "v-1"));

        Assert.Equal(1, (await again.Json()).GetProperty("duplicates").GetInt32());
        var profile = await (await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-1")).Json();
        Assert.Equal(1, profile.GetProperty("pageViews").GetInt32());
    }

    [Theory]
    [InlineData("""{"events":[{"eventId":"e-1","type":"teleport","visitorId":"v"}]}""", "events[0].type", "teleport")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"page_view","visitorId":"v"},{"eventId":"e-2","type":"product_view","visitorId":"v"}]}""", "events[1].itemId", "required")]
    [InlineData("""{"events":[{"eventId":"e 1","type":"page_view","visitorId":"v"}]}""", "events[0].eventId", "letters")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"page_view"}]}""", "events[0].visitorId", "required")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"add_to_cart","visitorId":"v","itemId":"i","price":-5}]}""", "events[0].price", "finite")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"add_to_cart","visitorId":"v","itemId":"i","quantity":0}]}""", "events[0].quantity", "from 1")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"purchase","visitorId":"v","orderId":"o","lines":[]}]}""", "events[0].lines", "line")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"purchase","visitorId":"v","orderId":"o","currency":"euro","lines":[{"itemId":"i","quantity":1,"price":1}]}]}""", "events[0].currency", "ISO 4217")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"page_view","visitorId":"v","timestamp":"2999-01-01T00:00:00Z"}]}""", "events[0].timestamp", "future")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"page_view","visitorId":"v","quantity":"many"}]}""", "events[0].quantity", "wrong type")]
    [InlineData("""{"events":[{"eventId":"e-1","type":"identify","visitorId":"v"}]}""", "events[0].customerId", "required")]
    [InlineData("""{"events":[]}""", "events", "at least one")]
    [InlineData("""{"events":[ {"eventId": """, "events[0].eventId", "not valid JSON")]
    public async Task BadInputIsAProblemNamingTheField(string body, string field, string message)
    {
        var response = await _app.Client(PersonalizerApp.SiteKey).PostJson("/v1/events", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await response.Errors();
        Assert.Contains(field, errors.Keys);
        Assert.Contains(errors[field], m => m.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABatchLargerThanTheLimitIsRefusedWhole()
    {
        var events = Enumerable.Range(0, 501).Select(i => PageView($"e-{i}", "v")).ToArray();
        var response = await _app.Client(PersonalizerApp.SiteKey).SendEvents(events);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("events", (await response.Errors()).Keys);
        await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v").AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ABatchWithOneBadEventAppliesNothing()
    {
        var response = await _app.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "v-9"), """{"eventId":"e-2","type":"nope","visitorId":"v-9"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-9").AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ABodyThatIsNotJsonIsUnsupported()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        var form = await site.PostAsync("/v1/events", new FormUrlEncodedContent([new("events", "1")]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);

        // text/plain is how a beacon sends JSON: taken, and read as JSON.
        var text = await site.PostAsync("/v1/events", new StringContent("events=1"));
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key-of-anyone")]
    public async Task AMissingOrUnknownKeyIsUnauthorized(string? key)
    {
        await _app.Client(key).SendEvents(PageView("e-1", "v")).AssertStatus(HttpStatusCode.Unauthorized);
    }
}

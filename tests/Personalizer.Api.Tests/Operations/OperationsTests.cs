using System.Net;

namespace Personalizer.Api.Tests.Operations;

public sealed class OperationsTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/scalar/v1")]
    public async Task OperationalEndpointsAnswerWithoutAKey(string url)
    {
        await _app.Client(null).GetAsync(url).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesEveryResource()
    {
        var text = await _app.Client(null).GetStringAsync("/openapi/v1.json");

        foreach (var path in new[] { "/v1/decide", "/v1/events", "/v1/profiles/{visitorId}", "/v1/catalog/items", "/v1/slots/{slotId}", "/v1/config/history" })
        {
            Assert.Contains($"\"{path}", text);
        }
    }
    [Fact]
    public async Task ADecideIsTracedWithItsProfileReadAndEachSlot()
    {
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Personalizer",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        await _app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", """{"visitorId":"t-1","slots":["home-hero","home-recs"]}""").AssertStatus(HttpStatusCode.OK);

        // Other tests may decide meanwhile (the listener hears the whole process): one decide must have it all.
        Assert.Contains(spans.Where(s => s.OperationName == "decide").ToList(), decide =>
        {
            var children = spans.Where(c => c.ParentSpanId == decide.SpanId).ToList();
            var slots = children.Where(c => c.OperationName == "decide slot").ToList();
            return children.Any(c => c.OperationName == "profile read")
                && slots.Select(c => c.GetTagItem("personalizer.slot") as string).Order().SequenceEqual(["home-hero", "home-recs"])
                && slots.All(c => c.GetTagItem("personalizer.source") is string);
        });
    }

    [Fact]
    public async Task MetricsAreScrapedInPrometheusFormat()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        await site.PostJson("/v1/decide", """{"visitorId":"m-1","slots":["home-hero","home-recs"]}""").AssertStatus(HttpStatusCode.OK);
        await site.SendEvents(HttpTestExtensions.PageView("m-e1", "m-1")).AssertStatus(HttpStatusCode.Accepted);

        string text = "";
        for (var i = 0; i < 50 && !text.Contains("personalizer_events", StringComparison.Ordinal); i++)
        {
            text = await _app.Client(null).GetStringAsync("/metrics");
            await Task.Delay(100);
        }
        Assert.Contains("personalizer_decide_duration", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_decide_slot_duration", text, StringComparison.Ordinal);
        Assert.Contains("slot=\"home-hero\"", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_events", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"accepted\"", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_commit_duration", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_backlog", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration", text, StringComparison.Ordinal);
    }

}

public sealed class DemoTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Theory]
    [InlineData("/demo/", "home-hero")]
    [InlineData("/demo/product.html", "pdp-similar")]
    [InlineData("/demo/cart.html", "cart-offer")]
    public async Task TheDemoStorefrontPagesCarryTheirSlots(string url, string slot)
    {
        var html = await _app.Client(null).GetStringAsync(url);

        Assert.Contains($"data-p13n-slot=\"{slot}\"", html);
    }

    [Theory]
    [InlineData("/demo/")]
    [InlineData("/demo/product.html")]
    [InlineData("/demo/cart.html")]
    public async Task TheDemoPagesSendSecurityHeadersAndCarryNoInlineScript(string url)
    {
        var response = await _app.Client(null).GetAsync(url);
        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));

        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.DoesNotContain("<script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

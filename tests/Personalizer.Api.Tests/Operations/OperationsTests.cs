using Microsoft.Extensions.DependencyInjection;
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
        // Buckets fine enough for a budget of a few milliseconds, not the SDK's default that starts at 5 ms.
        Assert.Contains("personalizer_decide_duration_milliseconds_bucket{otel_scope_name=\"Personalizer\",site=\"demo\",le=\"0.5\"}", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_commit_duration_milliseconds_bucket{", text, StringComparison.Ordinal);
        Assert.Matches("http_server_request_duration_seconds_bucket\\{[^}]*http_route=\"/v1/decide/\"[^}]*le=\"0.001\"\\}", text);
        Assert.Contains("slot=\"home-hero\"", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_events", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"accepted\"", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_commit_duration", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_backlog", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_log_writable", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainingShowsInTheMetrics()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        await site.SendEvents([.. Enumerable.Range(0, 40).Select(i => HttpTestExtensions.ProductView($"mm-{i}", $"mv-{i % 8}", $"sku-run-00{1 + i % 5}"))]).AssertStatus(HttpStatusCode.Accepted);
        await _app.Client(PersonalizerApp.AdminKey).PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.OK);
        var text = await _app.Client(null).GetStringAsync("/metrics");
        Assert.Contains("personalizer_model_training_duration_seconds", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_model_age_seconds{", text, StringComparison.Ordinal);
        Assert.Contains("site=\"demo\"", text, StringComparison.Ordinal);
        Assert.Contains("personalizer_model_items", text, StringComparison.Ordinal);
    }
}

/// <summary>One log line per request, with route, status, duration and site, and never a key.</summary>
public sealed class RequestLogTests : IDisposable
{
    private readonly LogLines _lines = new();
    private readonly PersonalizerApp _app;

    public RequestLogTests() => _app = new(services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(_lines),
        new() { ["Logging:LogLevel:Personalizer.Requests"] = "Information" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task EachRequestIsLoggedWithItsRouteStatusAndSiteButNoKey()
    {
        await _app.Client(PersonalizerApp.SiteKey).PostJson("/v1/decide", """{"visitorId":"log-1","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        await _app.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/nobody").AssertStatus(HttpStatusCode.NotFound);
        using var beacon = new StringContent("""{"events":[{"eventId":"lb","type":"page_view","visitorId":"log-1"}]}""", System.Text.Encoding.UTF8, "text/plain");
        await _app.Client(null).PostAsync($"/v1/events?key={PersonalizerApp.SiteKey}", beacon).AssertStatus(HttpStatusCode.Accepted);

        var lines = _lines.Lines.ToList();
        Assert.Contains(lines, l => l.StartsWith("POST /v1/decide 200 ", StringComparison.Ordinal) && l.EndsWith("site=demo", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("GET /v1/profiles/{visitorId} 404 ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("POST /v1/events 202 ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(PersonalizerApp.SiteKey, StringComparison.Ordinal) || l.Contains(PersonalizerApp.AdminKey, StringComparison.Ordinal) || l.Contains("nobody", StringComparison.Ordinal));
    }

    private sealed class LogLines : Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => categoryName == "Personalizer.Requests" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
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

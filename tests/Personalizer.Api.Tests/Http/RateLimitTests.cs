using System.Net;

namespace Personalizer.Api.Tests.Http;

public sealed class RateLimitTests : IDisposable
{
    // The demo site's keys may make 5 requests a second (bursts of 5); the other site has no limit.
    private readonly PersonalizerApp _app = new(settings: new()
    {
        ["Personalizer:Sites:demo:RateLimit:PerSecond"] = "5",
        ["Personalizer:Sites:demo:RateLimit:Burst"] = "5",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AKeyPastItsSitesRateGets429WithRetryAfterWhileAnotherKeyIsUnaffected()
    {
        var limited = _app.Client(PersonalizerApp.SiteKey);
        var other = _app.Client(PersonalizerApp.OtherSiteKey);
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 30; i++)
        {
            answers.Add(await limited.PostJson("/v1/decide", $$"""{"visitorId":"r-{{i}}","slots":["home-hero"]}"""));
            Assert.Equal(HttpStatusCode.OK, (await other.PostJson("/v1/decide", $$"""{"visitorId":"o-{{i}}","slots":["home-hero"]}""")).StatusCode);
        }

        Assert.InRange(answers.Count(a => a.StatusCode == HttpStatusCode.OK), 5, 12); // the burst, and what refilled meanwhile
        var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, (await refused.Json()).GetProperty("status").GetInt32());

        // Pages and health checks are not limited.
        Assert.Equal(HttpStatusCode.OK, (await limited.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task TheLoadToolHoldsBackAsLongAsA429Asks()
    {
        using var backoff = new Personalizer.LoadTests.Backoff(_app.Server.CreateHandler());
        using var client = new HttpClient(backoff, disposeHandler: false) { BaseAddress = _app.Server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", PersonalizerApp.SiteKey);
        var ok = 0;
        for (var i = 0; i < 40; i++)
        {
            var response = await client.PostJson("/v1/decide", $$"""{"visitorId":"b-{{i}}","slots":["home-hero"]}""");
            ok += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }
        // The burst went through; then one 429 from the service, and the rest held back without being sent.
        Assert.InRange(ok, 5, 12);
        Assert.InRange(backoff.Throttled, 1, 3);
        Assert.True(backoff.Held >= 40 - ok - 3, $"held {backoff.Held}");
    }
}

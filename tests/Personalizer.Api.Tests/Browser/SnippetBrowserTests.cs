using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;

namespace Personalizer.Api.Tests.Browser;

public sealed class SnippetBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Hero = "[data-p13n-slot='home-hero']";

    private async Task<IPage> OpenAsync(string path, Action<IBrowserContext>? setup = null, string? initScript = null)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Address.ToString(), ViewportSize = new ViewportSize { Width = 1200, Height = 900 } });
        // The shop asks for consent first; these tests are about a visitor who gave it (unless they say otherwise).
        await context.AddInitScriptAsync("if (location.pathname.startsWith('/demo') && !localStorage.getItem('p13n-demo-consent')) localStorage.setItem('p13n-demo-consent', 'granted')");
        if (initScript is not null)
        {
            await context.AddInitScriptAsync(initScript);
        }
        setup?.Invoke(context);
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        return page;
    }

    private static async Task<string> VisitorIdAsync(IPage page) =>
        await page.EvaluateAsync<string>("() => Personalizer.visitorId");

    private async Task<JsonElement?> ProfileAsync(string visitorId)
    {
        var response = await fixture.Client(PersonalizerApp.AdminKey).GetAsync($"/v1/profiles/{visitorId}");
        return response.StatusCode == HttpStatusCode.OK ? await response.Json() : null;
    }

    private async Task<JsonElement> WaitForProfileAsync(string visitorId, Func<JsonElement, bool> ready)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await ProfileAsync(visitorId) is { } p && ready(p))
            {
                return p;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The profile of {visitorId} never reached the expected state.");
    }

    [Fact]
    public async Task SlotsRenderTheDecidedContentAndTheDemoIsPhotographed()
    {
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        var site = fixture.Client(PersonalizerApp.SiteKey);
        string[] categories = ["run", "hik", "yog", "cyc", "swi", "cam", "fit", "app"];
        var views = Enumerable.Range(0, 160).SelectMany(v => Enumerable.Range(0, 6).Select(k =>
            HttpTestExtensions.ProductView($"shot-{v}-{k}", $"shopper-{v}", $"sku-{categories[v % 8]}-{(v * 7 + k * 5) % 40 + 1:D3}"))).ToArray();
        foreach (var chunk in views.Chunk(400))
        {
            await site.SendEvents(chunk).AssertStatus(HttpStatusCode.Accepted);
        }
        await admin.PostAsync("/v1/models/train?wait=true", null).AssertStatus(HttpStatusCode.OK);
        await admin.PutJson("/v1/rules/yoga-hero", """{"slot":"home-hero","priority":5,"when":"profile.affinity.top == 'yoga'","then":{"variant":"running-hero"}}""").AssertStatus(HttpStatusCode.OK);
        var page = await OpenAsync("/demo/product.html?id=sku-yog-003&timeout=5000");
        var visitor = await VisitorIdAsync(page);
        await WaitForProfileAsync(visitor, p => p.GetProperty("productViews").GetInt32() >= 1);

        await page.GotoAsync("/demo/?timeout=5000");
        await page.WaitForSelectorAsync($"{Hero}[data-p13n-source='rule:yoga-hero']");

        Assert.Equal("Run further", await page.InnerTextAsync($"{Hero} h1"));
        Assert.Equal(8, await page.Locator("[data-p13n-slot='home-recs'] .card").CountAsync());
        Assert.StartsWith("recs:", await page.GetAttributeAsync("[data-p13n-slot='home-recs']", "data-p13n-source"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Repository.Root, "docs", "demo-storefront.png"), FullPage = true });
    }

    [Fact]
    public async Task AnAnswerThatNeverComesLeavesTheDefaultMarkupAfterTheTimeout()
    {
        var held = new TaskCompletionSource();
        var page = await OpenAsync("/demo/", context => context.RouteAsync("**/v1/decide*", async _ => await held.Task).GetAwaiter().GetResult());
        try
        {
            await page.WaitForFunctionAsync("() => !document.querySelector(\"[data-p13n-slot='home-hero']\").hasAttribute('data-p13n-pending')", null, new PageWaitForFunctionOptions { Timeout = 3000 });
            Assert.Equal("visible", await page.EvalOnSelectorAsync<string>(Hero, "e => getComputedStyle(e).visibility"));
            Assert.Equal("New season, new trails", await page.InnerTextAsync($"{Hero} h1"));
            Assert.Null(await page.GetAttributeAsync(Hero, "data-p13n-source"));
        }
        finally
        {
            held.SetResult();
        }
    }

    [Fact]
    public async Task ContentWithScriptOrEventHandlersIsShownAsTextAndNeverRuns()
    {
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/slots/xss-box", """
            {"kind":"content","defaultVariant":"evil","variants":[{"id":"evil","content":{
              "title":"<img src=x onerror=\"window.__xss=1\">","body":"<script>window.__xss=2</script>","link":"javascript:window.__xss=3"}}]}
            """).AssertStatus(HttpStatusCode.OK);
        var page = await OpenAsync("/demo/cart.html?timeout=5000");
        await page.EvaluateAsync("""
            () => { document.querySelector('main').insertAdjacentHTML('beforeend',
              '<section data-p13n-slot="xss-box" data-p13n-template="xss-tpl"><b>default</b></section>' +
              '<template id="xss-tpl"><h3>{{title}}</h3><p>{{body}}</p><a id="evil-link" href="{{link}}">go</a></template>'); }
            """);
        await page.EvaluateAsync("() => Personalizer.decide(['xss-box'])");
        await page.ClickAsync("#evil-link");

        Assert.Equal("<img src=x onerror=\"window.__xss=1\">", await page.InnerTextAsync("[data-p13n-slot='xss-box'] h3"));
        Assert.Equal("<script>window.__xss=2</script>", await page.InnerTextAsync("[data-p13n-slot='xss-box'] p"));
        Assert.Null(await page.GetAttributeAsync("#evil-link", "href"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.__xss === undefined"));
    }

    [Fact]
    public async Task LinksAreResolvedAsTheBrowserWouldAndOnlyHttpIsKept()
    {
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/slots/link-box", """
            {"kind":"content","defaultVariant":"odd","variants":[{"id":"odd","content":{
              "title":"Odd links","link":"/\\evil.example/away","image":"data:image/svg+xml,<svg/>","home":"/demo/cart.html"}}]}
            """).AssertStatus(HttpStatusCode.OK);
        var page = await OpenAsync("/demo/cart.html?timeout=5000");
        await page.EvaluateAsync("""
            () => { document.querySelector('main').insertAdjacentHTML('beforeend',
              '<section data-p13n-slot="link-box" data-p13n-template="link-tpl"><b>default</b></section>' +
              '<template id="link-tpl"><a id="odd-link" href="{{link}}">{{title}}</a><img id="odd-image" src="{{image}}" alt=""><a id="home-link" href="{{home}}">home</a></template>'); }
            """);
        await page.EvaluateAsync("() => Personalizer.decide(['link-box'])");
        await Assertions.Expect(page.Locator("#odd-link")).ToHaveTextAsync("Odd links");

        // "/\\evil.example" opens another host: the link now says so, resolved; a data: image is dropped; a path on the shop stays.
        Assert.Equal("http://evil.example/away", await page.GetAttributeAsync("#odd-link", "href"));
        Assert.Null(await page.GetAttributeAsync("#odd-image", "src"));
        Assert.EndsWith("/demo/cart.html", await page.GetAttributeAsync("#home-link", "href"));
    }

    [Fact]
    public async Task EventsReachTheServiceAndSinglePageNavigationCountsAPageView()
    {
        var page = await OpenAsync("/demo/");
        var visitor = await VisitorIdAsync(page);
        await WaitForProfileAsync(visitor, p => p.GetProperty("pageViews").GetInt32() == 1);

        await page.EvaluateAsync("() => history.pushState({}, '', '/demo/?step=2')");
        await page.EvaluateAsync("() => Personalizer.flush()");

        var profile = await WaitForProfileAsync(visitor, p => p.GetProperty("pageViews").GetInt32() == 2);
        Assert.Equal(2, profile.GetProperty("pageViews").GetInt32());
        Assert.Equal(visitor, await page.EvaluateAsync<string>("() => localStorage.getItem('p13n_vid')"));
    }

    [Fact]
    public async Task AnAddToCartTrackedRightBeforeNavigationReachesTheProfile()
    {
        var page = await OpenAsync("/demo/");
        var visitor = await VisitorIdAsync(page);
        await WaitForProfileAsync(visitor, p => p.GetProperty("pageViews").GetInt32() == 1);

        // From here fetch cannot deliver events: only pagehide's beacon (text/plain, key in the query) can carry the add-to-cart.
        await page.EvaluateAsync("""
            () => {
              const original = window.fetch;
              window.fetch = (url, init) => String(url).includes('/v1/events') ? Promise.reject(new Error('blocked')) : original(url, init);
              Personalizer.track('add_to_cart', { itemId: 'sku-before-leaving', quantity: 2, price: 19.5 });
            }
            """);
        await page.GotoAsync("/demo/cart.html");

        var profile = await WaitForProfileAsync(visitor, p => p.GetProperty("cart").GetArrayLength() == 1);
        Assert.Equal("sku-before-leaving", profile.GetProperty("cart")[0].GetProperty("itemId").GetString());
        Assert.Equal(2, profile.GetProperty("cart")[0].GetProperty("quantity").GetInt32());
    }

    [Fact]
    public async Task ARateLimitedBatchWaitsAsAskedAndIsSentAgainUntilItLands()
    {
        var times = new List<DateTime>();
        var refused = 0;
        var page = await OpenAsync("/demo/", context => context.RouteAsync("**/v1/events*", async route =>
        {
            // Only the batch under test: the page's own page_view batch may be in flight too.
            if (route.Request.PostData?.Contains("backoff-item", StringComparison.Ordinal) != true)
            {
                await route.ContinueAsync();
                return;
            }
            lock (times)
            {
                times.Add(DateTime.UtcNow);
            }
            if (Interlocked.Increment(ref refused) <= 2)
            {
                await route.FulfillAsync(new RouteFulfillOptions
                {
                    Status = 429,
                    Headers = new Dictionary<string, string> { ["Retry-After"] = "1", ["Content-Type"] = "application/problem+json" },
                    Body = "{\"title\":\"Too many requests\",\"status\":429}",
                });
                return;
            }
            await route.ContinueAsync();
        }).GetAwaiter().GetResult());
        var visitor = await VisitorIdAsync(page);
        await page.EvaluateAsync("() => { Personalizer.track('add_to_cart', { itemId: 'backoff-item', quantity: 1, price: 5 }); Personalizer.flush(); }");

        var profile = await WaitForProfileAsync(visitor, p => p.GetProperty("cart").GetArrayLength() == 1);

        Assert.Equal("backoff-item", profile.GetProperty("cart")[0].GetProperty("itemId").GetString());
        lock (times)
        {
            Assert.True(times.Count >= 3, $"{times.Count} requests");
            // The retry waits the Retry-After second; a batch still refused goes back to the queue for 5 s.
            Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(900), $"retried after {(times[1] - times[0]).TotalMilliseconds} ms");
            Assert.True(times[2] - times[1] >= TimeSpan.FromMilliseconds(4500), $"sent again after {(times[2] - times[1]).TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task AClickOnARenderedSlotIsReportedWithItsDecision()
    {
        var page = await OpenAsync("/demo/?timeout=5000");
        var visitor = await VisitorIdAsync(page);
        await page.WaitForSelectorAsync("[data-p13n-slot='home-recs'][data-p13n-source]");
        await page.EvaluateAsync("() => document.querySelector(\"[data-p13n-slot='home-recs'] .card\").addEventListener('click', e => e.preventDefault())");

        await page.ClickAsync("[data-p13n-slot='home-recs'] .card");
        await page.EvaluateAsync("() => Personalizer.flush()");

        var profile = await WaitForProfileAsync(visitor, p => p.GetProperty("slotClicks").GetInt32() == 1);
        Assert.Equal(1, profile.GetProperty("slotClicks").GetInt32());
    }

    [Fact]
    public async Task WithConsentDeniedThereIsNoVisitorIdAndNoEventRequest()
    {
        var requests = new List<string>();
        var page = await OpenAsync("/demo/", context => context.Request += (_, r) => requests.Add(r.Url),
            initScript: "localStorage.setItem('p13n-demo-consent', 'denied')");
        await page.WaitForFunctionAsync("() => !document.querySelector(\"[data-p13n-slot='home-hero']\").hasAttribute('data-p13n-pending')");
        await page.EvaluateAsync("() => { Personalizer.track('page_view'); Personalizer.flush(); history.pushState({}, '', '/demo/?x=1'); }");
        await page.WaitForTimeoutAsync(1500);

        Assert.DoesNotContain(requests, u => u.Contains("/v1/events", StringComparison.Ordinal));
        Assert.Contains(requests, u => u.Contains("/v1/decide", StringComparison.Ordinal));
        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('p13n_vid')"));
        Assert.DoesNotContain("p13n_vid", await page.EvaluateAsync<string>("() => document.cookie"));
        Assert.StartsWith("anon-", await VisitorIdAsync(page));
    }

    [Fact]
    public async Task TheSnippetIsServedAtAVersionedPathWithLongCaching()
    {
        using var client = new HttpClient { BaseAddress = fixture.Address };
        var version = await client.GetStringAsync("/sdk/version");
        var versioned = await client.GetAsync($"/sdk/v{version}/personalizer.js");
        var latest = await client.GetAsync("/sdk/personalizer.js");

        Assert.Equal(HttpStatusCode.OK, versioned.StatusCode);
        Assert.Contains("immutable", versioned.Headers.CacheControl!.ToString());
        Assert.Equal(TimeSpan.FromDays(365), versioned.Headers.CacheControl.MaxAge);
        Assert.Equal(TimeSpan.FromMinutes(5), latest.Headers.CacheControl!.MaxAge);
        Assert.Equal("text/javascript", latest.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public void TheBuiltSnippetIsUnderFiveKilobytesGzipped()
    {
        var script = File.ReadAllBytes(Path.Combine(Repository.Root, "src", "Personalizer.Sdk.Js", "dist", "personalizer.js"));
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(script);
        }
        Assert.True(compressed.Length <= 5 * 1024, $"{compressed.Length} bytes gzipped");
    }
}

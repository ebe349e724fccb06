using System.Net;
using Microsoft.Playwright;
using Personalizer.Api.Tests.Triggers;
using Personalizer.Engine.Triggers;

namespace Personalizer.Api.Tests.Browser;

/// <summary>The console's pages beyond rules and slots, each driven as a merchandiser would, photographed into docs/.</summary>
public sealed class ConsolePagesTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string DemoConsent = "if (location.pathname.startsWith('/demo') && !localStorage.getItem('p13n-demo-consent')) localStorage.setItem('p13n-demo-consent', 'granted')";

    private async Task<IPage> OpenAsync(string path)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Address.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        await context.AddInitScriptAsync(DemoConsent);
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        return page;
    }

    private async Task<IPage> SignedInAsync(string hash)
    {
        var page = await OpenAsync("/admin/");
        await page.GetByLabel("Admin key").FillAsync(PersonalizerApp.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("nav").WaitForAsync();
        await page.EvaluateAsync($"() => location.hash = '{hash}'");
        return page;
    }

    private static string Docs(string file) => Path.Combine(Repository.Root, "docs", file);

    private static Task<byte[]> ShotAsync(IPage page, string file) => page.ScreenshotAsync(new PageScreenshotOptions { Path = Docs(file), FullPage = true });

    [Fact]
    public async Task AnExperimentCreatedAndStartedInTheConsoleIsServedByTheDemo()
    {
        var page = await SignedInAsync("#experiments/+new");
        await page.GetByLabel("Experiment id").FillAsync("hero-console");
        await page.GetByLabel("Slot", new() { Exact = true }).SelectOptionAsync("home-hero");
        await page.GetByLabel("variant generic").CheckAsync();
        await page.GetByLabel("variant welcome-back").CheckAsync();
        await page.GetByLabel("variant vip-banner").UncheckAsync();
        await page.GetByLabel("Control group", new() { Exact = false }).FillAsync("10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create experiment" }).ClickAsync();
        await Assertions.Expect(page.Locator("#experiment-results h3")).ToContainTextAsync("Results of hero-console");
        await Assertions.Expect(page.Locator("[data-stop='hero-console']")).ToBeVisibleAsync();

        // The storefront now serves the experiment's arms (or its control group, the slot's usual answer).
        var sources = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            var demo = await OpenAsync("/demo/?timeout=5000");
            await demo.WaitForSelectorAsync("[data-p13n-slot='home-hero'][data-p13n-source]");
            sources.Add((await demo.GetAttributeAsync("[data-p13n-slot='home-hero']", "data-p13n-source"))!);
            await demo.Context.CloseAsync();
        }
        Assert.Contains(sources, s => s.StartsWith("experiment:hero-console/", StringComparison.Ordinal));
        Assert.All(sources, s => Assert.StartsWith("experiment:hero-console/", s, StringComparison.Ordinal));

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#experiment-results table td").First).ToBeVisibleAsync();
        await ShotAsync(page, "console-experiments.png");

        await page.Locator("[data-stop='hero-console']").ClickAsync();
        await page.Locator("#confirm-ok").ClickAsync();
        await Assertions.Expect(page.Locator("#experiments-status")).ToContainTextAsync("hero-console is stopped");
    }

    [Fact]
    public async Task ATriggerCreatedInTheConsoleSendsATestDeliveryThatArrives()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var page = await SignedInAsync("#triggers/+new");
        await page.GetByLabel("Trigger id").FillAsync("console-cart");
        await page.GetByLabel("Description").FillAsync("cart abandonment, from the console");
        await page.GetByLabel("Starts on").SelectOptionAsync("add_to_cart");
        await page.GetByLabel("Wait (minutes)").FillAsync("45");
        await page.GetByLabel("Webhook URL").FillAsync(receiver.Url.ToString());
        await page.GetByLabel("Signing secret").FillAsync("console-secret-of-16+");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save trigger" }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Send test" }).ClickAsync();
        await Assertions.Expect(page.Locator("#test-result")).ToContainTextAsync("Delivered: the receiver answered 200");
        var received = Assert.Single(receiver.Requests);
        Assert.Contains("\"trigger\":\"console-cart\"", received.Body, StringComparison.Ordinal);
        var timestamp = received.Signature.Split(',')[0]["t=".Length..];
        Assert.Equal($"t={timestamp},v1={TriggerDispatcher.Sign("console-secret-of-16+", timestamp, received.Body)}", received.Signature);

        await Assertions.Expect(page.Locator("#deliveries")).ToContainTextAsync("delivered");
        await ShotAsync(page, "console-triggers.png");
    }

    [Fact]
    public async Task AnItemSetOutOfStockInTheConsoleLeavesTheDemosRecommendations()
    {
        // Make one item the trend, so that a new visitor's list opens with it.
        var site = fixture.Client(PersonalizerApp.SiteKey);
        var views = Enumerable.Range(0, 120).Select(k => HttpTestExtensions.ProductView($"stock-{k}", $"fan-{k}", "sku-cam-007")).ToArray();
        await site.SendEvents(views).AssertStatus(HttpStatusCode.Accepted);
        const string Card = "[data-p13n-slot='home-recs'] a.card[href*='sku-cam-007']";
        var before = await OpenAsync("/demo/?timeout=5000");
        await before.WaitForSelectorAsync("[data-p13n-slot='home-recs'][data-p13n-source]");
        Assert.Equal(1, await before.Locator(Card).CountAsync());

        var page = await SignedInAsync("#catalog/sku-cam-007");
        var stock = page.GetByLabel("sku-cam-007 in stock");
        await Assertions.Expect(stock).ToBeCheckedAsync();
        await stock.UncheckAsync();
        await page.Locator("[data-save='sku-cam-007']").ClickAsync();
        await Assertions.Expect(page.Locator("#catalog-status")).ToContainTextAsync("sku-cam-007: price");
        await Assertions.Expect(page.Locator("#catalog-status")).ToContainTextAsync("out of stock");
        await page.EvaluateAsync("() => location.hash = '#catalog/Tent'");
        await Assertions.Expect(page.Locator("#catalog-items tbody tr").First).ToBeVisibleAsync();
        await ShotAsync(page, "console-catalog.png");

        var after = await OpenAsync("/demo/?timeout=5000");
        await after.WaitForSelectorAsync("[data-p13n-slot='home-recs'][data-p13n-source]");
        Assert.Equal(8, await after.Locator("[data-p13n-slot='home-recs'] .card").CountAsync());
        Assert.Equal(0, await after.Locator(Card).CountAsync());
    }

    [Fact]
    public async Task TheModelsCustomersAndSitesPagesShowWhatTheyManage()
    {
        var site = fixture.Client(PersonalizerApp.SiteKey);
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        var now = DateTimeOffset.UtcNow;
        var events = new List<string>();
        for (var c = 0; c < 40; c++)
        {
            for (var k = 0; k <= c % 4; k++)
            {
                var at = now.AddDays(-1 - (c % 10) - (k * 5)).ToString("O");
                events.Add($$"""{"eventId":"cust-{{c}}-{{k}}","type":"purchase","visitorId":"buyer-{{c}}","orderId":"o-{{c}}-{{k}}","timestamp":"{{at}}","lines":[{"itemId":"sku-run-00{{k + 1}}","quantity":1,"price":{{20 + c}}}]}""");
            }
        }
        await site.SendEvents([.. events]).AssertStatus(HttpStatusCode.Accepted);
        await admin.PostAsync("/v1/crm/refresh", null).AssertStatus(HttpStatusCode.OK);

        var page = await SignedInAsync("#models");
        await page.GetByRole(AriaRole.Button, new() { Name = "Train a model now" }).ClickAsync();
        await Assertions.Expect(page.Locator("#train-status")).ToContainTextAsync("Published model", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#models td .badge")).ToHaveTextAsync("serving");
        await ShotAsync(page, "console-models.png");

        await page.EvaluateAsync("() => location.hash = '#customers'");
        await Assertions.Expect(page.Locator("table.heat")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("figure.bars").First).ToContainTextAsync("first time customer");
        await ShotAsync(page, "console-customers.png");
        await page.GetByLabel("Open a customer").FillAsync("buyer-3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#timeline li").First).ToContainTextAsync("purchase");
        await ShotAsync(page, "console-customer.png");

        await page.EvaluateAsync("() => location.hash = '#sites'");
        await page.Locator("#operator-key").FillAsync(BrowserFixture.OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-site='demo']")).ToBeVisibleAsync();
        await page.Locator("[data-new-key='demo:site']").ClickAsync();
        await Assertions.Expect(page.Locator("#new-key-value")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(".{16,}"));
        var key = await page.InnerTextAsync("#new-key-value");
        Assert.Equal(HttpStatusCode.OK, (await fixture.Client(key).GetAsync("/v1/catalog/items/sku-run-001")).StatusCode);
        await page.EvaluateAsync("() => document.getElementById('new-key-value').textContent = '(shown once)'");
        await ShotAsync(page, "console-sites.png");
    }

    [Fact]
    public async Task TheStorefrontHasCategoriesSearchAProductPageACartAndExplainsEachSlot()
    {
        var page = await OpenAsync("/demo/?timeout=5000");
        await page.WaitForSelectorAsync("[data-p13n-slot='home-recs'][data-p13n-source]");
        await page.Locator("details[data-why='home-recs'] summary").ClickAsync();
        await Assertions.Expect(page.Locator("details[data-why='home-recs'] li").First).ToBeVisibleAsync();
        await ShotAsync(page, "demo-home.png");

        await page.GetByRole(AriaRole.Link, new() { Name = "Hiking", Exact = true }).First.ClickAsync();
        await page.WaitForSelectorAsync("[data-p13n-slot='shop-grid'][data-p13n-source='rule:category-page']");
        var titles = await page.Locator("[data-p13n-slot='shop-grid'] .card .t").AllInnerTextsAsync();
        Assert.Equal(20, titles.Count);
        Assert.All(titles, t => Assert.Matches("Hiking|Trekking|Daypack|Trail Map", t));

        await page.GetByLabel("Search the shop").FillAsync("tent");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.WaitForSelectorAsync("[data-p13n-slot='shop-grid'][data-p13n-source='rule:search-page']");
        Assert.All(await page.Locator("[data-p13n-slot='shop-grid'] .card .t").AllInnerTextsAsync(), t => Assert.Contains("Tent", t, StringComparison.Ordinal));

        await page.GotoAsync("/demo/product.html?id=sku-cam-001&timeout=5000");
        await page.WaitForSelectorAsync("[data-p13n-slot='pdp-similar'][data-p13n-source]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Assertions.Expect(page.Locator("#added")).ToHaveTextAsync("Added to your cart.");
        await Assertions.Expect(page.Locator("#cart-count")).ToHaveTextAsync("1");
        await ShotAsync(page, "demo-product.png");

        await page.GotoAsync("/demo/cart.html?timeout=5000");
        await page.WaitForSelectorAsync("[data-p13n-slot='cart-offer'][data-p13n-source]");
        await Assertions.Expect(page.Locator("table.lines")).ToContainTextAsync("Tent");
        await ShotAsync(page, "demo-cart.png");
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();
        await Assertions.Expect(page.Locator(".thanks")).ToContainTextAsync("Thank you");

        // A first visit asks for consent before anything personal happens.
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Address.ToString() });
        var fresh = await context.NewPageAsync();
        // As above, a generous decide timeout: the reload after the choice keeps it, and a busy machine may exceed 300 ms.
        await fresh.GotoAsync("/demo/?timeout=5000");
        await Assertions.Expect(fresh.Locator("#consent-banner")).ToBeVisibleAsync();
        Assert.StartsWith("anon-", await fresh.EvaluateAsync<string>("() => Personalizer.visitorId"));
        await fresh.ScreenshotAsync(new PageScreenshotOptions { Path = Docs("demo-consent.png") });
        await fresh.Locator("#consent-accept").ClickAsync();
        await fresh.WaitForSelectorAsync("[data-p13n-slot='home-recs'][data-p13n-source]");
        Assert.DoesNotContain("anon-", await fresh.EvaluateAsync<string>("() => Personalizer.visitorId"), StringComparison.Ordinal);
    }
}

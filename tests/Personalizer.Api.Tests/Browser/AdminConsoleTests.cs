using System.Net;
using Microsoft.Playwright;

namespace Personalizer.Api.Tests.Browser;

/// <summary>The merchandiser console at /admin in Debian's Chromium, against the real service.</summary>
public sealed class AdminConsoleTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private async Task<IPage> OpenAsync(string path)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Address.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        await context.AddInitScriptAsync("if (location.pathname.startsWith('/demo') && !localStorage.getItem('p13n-demo-consent')) localStorage.setItem('p13n-demo-consent', 'granted')");
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        return page;
    }

    private async Task<IPage> SignedInAsync(string hash = "")
    {
        var page = await OpenAsync("/admin/" + hash);
        await page.GetByLabel("Admin key").FillAsync(PersonalizerApp.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("nav").WaitForAsync();
        return page;
    }

    private static string Docs(string file) => Path.Combine(Repository.Root, "docs", file);

    [Fact]
    public async Task ASiteKeyIsRefusedAndTheAdminKeyStaysOutOfTheAddressBar()
    {
        var page = await OpenAsync("/admin");
        await page.GetByLabel("Admin key").FillAsync(PersonalizerApp.SiteKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#sign-in-error")).ToContainTextAsync("not an admin key");
        Assert.False(await page.Locator("#app").IsVisibleAsync());
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('p13n-admin-key')"));

        await page.GetByLabel("Admin key").FillAsync(PersonalizerApp.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Slots", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "home-hero" })).ToBeVisibleAsync();
        Assert.DoesNotContain(PersonalizerApp.AdminKey, page.Url, StringComparison.Ordinal);
        Assert.Equal(PersonalizerApp.AdminKey, await page.EvaluateAsync<string>("() => sessionStorage.getItem('p13n-admin-key')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
    }

    [Fact]
    public async Task ARuleCreatedThroughTheFormChangesTheDemoForMatchingVisitors()
    {
        var page = await SignedInAsync("#rules/+new");
        await page.GetByLabel("Rule id").FillAsync("spring-hero");
        await page.GetByLabel("Slot", new() { Exact = true }).SelectOptionAsync("home-hero");
        await page.GetByLabel("When (condition)").FillAsync("context.utm.campaign == 'spring'");
        await page.GetByLabel("Then show variant").SelectOptionAsync("vip-banner");
        await page.GetByLabel("Priority (higher runs first)").FillAsync("20");
        var publish = page.GetByRole(AriaRole.Button, new() { Name = "Publish rule" });
        await Assertions.Expect(publish).ToBeEnabledAsync();
        await publish.ClickAsync();
        await Assertions.Expect(page.Locator("#rule-form [role=status].ok")).ToContainTextAsync("Published as configuration version");

        var matching = await OpenAsync("/demo/?utm_campaign=spring&timeout=5000");
        await Assertions.Expect(matching.Locator("[data-p13n-slot='home-hero']")).ToContainTextAsync("Welcome back");
        var other = await OpenAsync("/demo/?timeout=5000");
        await Assertions.Expect(other.Locator("[data-p13n-slot='home-hero'][data-p13n-source]")).ToHaveCountAsync(1);
        await Assertions.Expect(other.Locator("[data-p13n-slot='home-hero']")).Not.ToContainTextAsync("Welcome back");
    }

    [Fact]
    public async Task AnInvalidConditionIsMarkedWhereItIsWrongAndCannotBePublished()
    {
        var page = await SignedInAsync("#rules/+new");
        await page.GetByLabel("Rule id").FillAsync("broken");
        await page.GetByLabel("When (condition)").FillAsync("profile.orders >= 3 and\n  profile.device == 'mobile'");
        var error = page.Locator("#rule-when-error");
        await Assertions.Expect(error).ToContainTextAsync("line 2, column 3");
        await Assertions.Expect(error).ToContainTextAsync("profile.device");
        await Assertions.Expect(page.Locator("#rule-when")).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.Locator("#rule-when-marker")).ToHaveTextAsync("  profile.device == 'mobile'\n  ^");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish rule" })).ToBeDisabledAsync();
        await page.Locator("#rule-form").ScreenshotAsync(new() { Path = Docs("admin-rule-error.png") });

        // Fixing it enables publishing again.
        await page.GetByLabel("When (condition)").FillAsync("profile.orders >= 3");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Publish rule" })).ToBeEnabledAsync();
        await Assertions.Expect(error).ToHaveTextAsync("");
    }

    [Fact]
    public async Task ARollbackFromTheHistoryNeedsConfirmationAndRestoresTheVersion()
    {
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        var before = (await (await admin.GetAsync("/v1/config/history")).Json())[0].GetProperty("version").GetInt32();
        await admin.PutJson("/v1/rules/to-undo", """{"slot":"home-hero","when":"true","then":{"variant":"vip-banner"}}""").AssertStatus(HttpStatusCode.OK);

        var page = await SignedInAsync("#history");
        await Assertions.Expect(page.GetByText("created rule to-undo")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Row, new() { Name = "created rule to-undo" }).GetByRole(AriaRole.Button, new() { Name = "What changed" }).ClickAsync();
        await Assertions.Expect(page.Locator("#diff")).ToContainTextAsync("rule to-undo added");

        var rollback = page.GetByRole(AriaRole.Button, new() { Name = $"Roll back to {before}", Exact = true });
        await rollback.ClickAsync();
        await Assertions.Expect(page.Locator("#confirm")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/rules/to-undo")).StatusCode);

        await rollback.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Assertions.Expect(page.GetByText($"rolled back to version {before}")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/rules/to-undo")).StatusCode);
    }

    [Fact]
    public async Task ThePreviewShowsEverySlotWithItsExplainTrace()
    {
        var admin = fixture.Client(PersonalizerApp.AdminKey);
        await admin.PutJson("/v1/rules/preview-mobile", """{"slot":"home-hero","priority":7,"when":"context.device == 'mobile'","then":{"variant":"vip-banner"}}""").AssertStatus(HttpStatusCode.OK);
        await admin.PutJson("/v1/rules/preview-never", """{"slot":"home-hero","priority":3,"when":"profile.orders > 100","then":{"variant":"welcome-back"}}""").AssertStatus(HttpStatusCode.OK);

        var page = await SignedInAsync("#preview");
        await page.GetByLabel("Visitor id").FillAsync("preview-visitor");
        await page.GetByLabel("Page context", new() { Exact = false }).FillAsync("""{"device":"mobile","url":"/demo/"}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show what they would see" }).ClickAsync();
        var hero = page.Locator(".slot-answer[data-slot='home-hero']");
        await Assertions.Expect(hero).ToContainTextAsync("rule:preview-mobile");
        await Assertions.Expect(hero.Locator("table.trace")).ToContainTextAsync("won");
        await Assertions.Expect(hero.Locator("table.trace")).ToContainTextAsync("rule:preview-never");
        // Every slot of the demo site: home-hero, home-recs, pdp-similar, shop-grid, cart-offer.
        await Assertions.Expect(page.Locator(".slot-answer")).ToHaveCountAsync(5);
        await page.Locator("#view").ScreenshotAsync(new() { Path = Docs("admin-preview.png") });
    }

    [Fact]
    public async Task ThePreviewKeepsOnlyHttpLinksAndImages()
    {
        var page = await SignedInAsync("#slots/cart-offer");
        await page.Locator("#variant-0-cta").FillAsync("Go");
        await page.Locator("#variant-0-link").FillAsync("javascript:alert(1)");
        await page.Locator("#variant-0-image").FillAsync("javascript:alert(2)");
        var preview = page.Locator(".variant-preview").First;
        await Assertions.Expect(preview.Locator("a.cta")).ToHaveAttributeAsync("href", "#");
        await Assertions.Expect(preview.Locator("img")).ToHaveCountAsync(0);

        await page.Locator("#variant-0-link").FillAsync("https://shop.example/sale");
        await Assertions.Expect(preview.Locator("a.cta")).ToHaveAttributeAsync("href", "https://shop.example/sale");
    }

    [Fact]
    public async Task SlotsCanBeEditedWithALiveRenderingAndResultsAreCharted()
    {
        var page = await SignedInAsync("#slots/cart-offer");
        await page.Locator("#variant-0-title").FillAsync("Free shipping over 40 EUR");
        await Assertions.Expect(page.Locator(".variant-preview").First).ToContainTextAsync("Free shipping over 40 EUR");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish slot" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Published as configuration version")).ToBeVisibleAsync();
        var slot = await (await fixture.Client(PersonalizerApp.AdminKey).GetAsync("/v1/slots/cart-offer")).Json();
        Assert.Equal("Free shipping over 40 EUR", slot.GetProperty("variants")[0].GetProperty("content").GetProperty("title").GetString());

        await page.GotoAsync("/admin/#results");
        await Assertions.Expect(page.Locator("svg.chart").First).ToBeVisibleAsync();
        // Axes with a unit, and the legend apart from the plot (HTML, wrapping): no "max N" labels drawn over it.
        await Assertions.Expect(page.Locator("svg.chart text").Filter(new() { HasText = "count per day" }).First).ToBeAttachedAsync();
        await Assertions.Expect(page.Locator("ul.legend").First).ToContainTextAsync("impressions");
        Assert.DoesNotContain("(max", await page.InnerTextAsync("#view"), StringComparison.Ordinal);
        await page.Locator("#view").ScreenshotAsync(new() { Path = Docs("admin-results.png") });
    }

    [Fact]
    public async Task TheRulesPageWithNoRuleSelectedShowsNoStrayText()
    {
        var page = await SignedInAsync("#rules");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Rules", Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain("null", await page.InnerTextAsync("#view"), StringComparison.Ordinal);
        Assert.DoesNotContain("undefined", await page.InnerTextAsync("#view"), StringComparison.Ordinal);
    }
}

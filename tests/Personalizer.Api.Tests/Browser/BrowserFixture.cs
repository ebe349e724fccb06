using Microsoft.Playwright;
using Personalizer.Api.Tests.Durability;

namespace Personalizer.Api.Tests.Browser;

/// <summary>
/// The real service (a child process on loopback) and Debian's Chromium driven by Playwright, shared
/// by the browser tests of one class. Chromium must be installed: ./test.sh installs it.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    /// <summary>The operator key of the service under test (the console's Sites page asks for it).</summary>
    public const string OperatorKey = "operator-key-for-browser-tests";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-browser-tests", Guid.NewGuid().ToString("N"));
    private IPlaywright? _playwright;

    internal ServiceProcess Service { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri Address => Service.Address;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"Browser tests need Debian's Chromium at {ChromiumPath}: run ./test.sh (it installs it) or apt-get install -y chromium.");
        }
        Service = await ServiceProcess.StartAsync(_data, 1, $"--Personalizer:OperatorKeys:0={OperatorKey}");
        // Warm the service up: the demo waits only 300 ms for a decision, and a cold first call
        // (JIT, first reads) may take longer — then, by design, the default markup stays.
        var site = Service.Client(PersonalizerApp.SiteKey);
        for (var i = 0; i < 20; i++)
        {
            await site.PostJson("/v1/decide", """{"visitorId":"warm-up","slots":["home-hero","home-recs","pdp-similar","cart-offer"]}""");
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
        });
    }

    public HttpClient Client(string key) => Service.Client(key);

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        Service?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Personalizer.Api.Tests;

/// <summary>
/// A fresh service per test over its own data folder, with two sites: <c>demo</c> (seeded) and <c>other</c>.
/// </summary>
public sealed class PersonalizerApp : WebApplicationFactory<Program>
{
    public const string SiteKey = "demo-site-key";
    public const string AdminKey = "demo-admin-key";
    public const string OtherSiteKey = "other-site-key";
    public const string OtherAdminKey = "other-admin-key";

    private readonly Action<IServiceCollection>? _services;
    private readonly Dictionary<string, string> _settings;

    public PersonalizerApp(Action<IServiceCollection>? services = null, Dictionary<string, string>? settings = null)
    {
        _services = services;
        _settings = settings ?? [];
        DataPath = Path.Combine(Path.GetTempPath(), "p13n-api-tests", Guid.NewGuid().ToString("N"));
    }

    public string DataPath { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        var settings = new Dictionary<string, string>
        {
            ["Personalizer:DataPath"] = DataPath,
            ["Personalizer:CheckpointIntervalSeconds"] = "0",
            // Checkpoints and recovery are covered by the engine's ledger tests and the process tests.
            ["Personalizer:CheckpointOnShutdown"] = "false",
            // Shared 2-core machines: a first decide (JIT) may pass 50 ms while other test classes run;
            // the deadline has its own test, which sets its own budget.
            ["Personalizer:DecideBudgetMs"] = "1000",
            ["Personalizer:Faster:MemoryMb"] = "16",
            ["Personalizer:Faster:PageKb"] = "256",
            ["Personalizer:Faster:IndexMb"] = "1",
            ["Personalizer:Faster:EventLogMemoryMb"] = "8",
            ["Personalizer:Sites:demo:SiteKeys:0"] = SiteKey,
            ["Personalizer:Sites:demo:AdminKeys:0"] = AdminKey,
            ["Personalizer:Sites:other:SiteKeys:0"] = OtherSiteKey,
            ["Personalizer:Sites:other:AdminKeys:0"] = OtherAdminKey,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in _settings)
        {
            settings[k] = v;
        }
        foreach (var (k, v) in settings)
        {
            builder.UseSetting(k, v);
        }
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    public HttpClient Client(string? key)
    {
        var client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class HttpTestExtensions
{
    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, string json) =>
        client.PutAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonElement> Json(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The problem details' error entries, by field path.</summary>
    public static async Task<Dictionary<string, string[]>> Errors(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Json();
        return body.GetProperty("errors").Deserialize<Dictionary<string, string[]>>()!;
    }

    public static async Task<HttpResponseMessage> SendEvents(this HttpClient client, params string[] events) =>
        await client.PostJson("/v1/events", $$"""{"events":[{{string.Join(",", events)}}]}""");

    public static string PageView(string id, string visitor) => $$"""{"eventId":"{{id}}","type":"page_view","visitorId":"{{visitor}}"}""";

    public static string ProductView(string id, string visitor, string item) => $$"""{"eventId":"{{id}}","type":"product_view","visitorId":"{{visitor}}","itemId":"{{item}}"}""";

    public static async Task AssertStatus(this Task<HttpResponseMessage> call, System.Net.HttpStatusCode status)
    {
        var response = await call;
        Assert.True(response.StatusCode == status, $"Expected {status}, got {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static MediaTypeHeaderValue? ContentType(this HttpResponseMessage r) => r.Content.Headers.ContentType;
}

/// <summary>The checkout the tests run in (the folder holding Personalizer.sln).</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Personalizer.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Personalizer.sln not found above the test folder.");
    }
}

using Personalizer.Api.Tests.Durability;
using Personalizer.LoadTests;

namespace Personalizer.Api.Tests.LoadTests;

/// <summary>Keeps the load tool working: a short open-model run against the real service. Timings are not judged here.</summary>
public sealed class LoadToolSmokeTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-load-smoke", Guid.NewGuid().ToString("N"));
    private readonly string _report = Path.Combine(Path.GetTempPath(), "p13n-load-smoke", Guid.NewGuid().ToString("N") + "-report");

    public void Dispose()
    {
        foreach (var dir in new[] { _data, _report })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task TheStorefrontAndBaselineScenariosRunAndReport()
    {
        // The product's default checkpoint interval: the smoke is about the tool under ordinary settings.
        using var service = await ServiceProcess.StartAsync(_data, checkpointSeconds: 30);
        using var client = new HttpClient { BaseAddress = service.Address };
        // A cold service on a busy CI machine answers its first requests slowly; the smoke is about the tool, not timings.
        for (var i = 0; i < 20; i++)
        {
            await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/decide")
            {
                Content = new StringContent("""{"visitorId":"warm","slots":["home-hero","home-recs","cart-offer"]}""", System.Text.Encoding.UTF8, "application/json"),
                Headers = { { "X-Api-Key", PersonalizerApp.SiteKey } },
            });
        }
        var settings = new Scenarios.Settings(PersonalizerApp.SiteKey, 1000, 320, 40, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        Scenario[] scenarios = [Scenarios.Create("storefront", settings), Scenarios.Create("baseline", settings)];

        var stats = await new Runner(client).RunAsync(scenarios, CancellationToken.None);

        Assert.Equal(["decide", "events", "recommendations", "baseline"], stats.Select(s => s.Step).ToArray());
        // Every scheduled request is counted, answered or not: 2 scenarios × 40/s × 5 s measured.
        Assert.InRange(stats.Sum(s => s.Requests), 380, 420);
        Assert.All(stats, s => Assert.Equal(s.Requests, s.Latency.TotalCount));
        Assert.True(stats.Single(s => s.Step == "decide").Ok > 0);

        var check = Threshold.Parse("decide:p99<=60s");
        Assert.True(check.Holds(stats.Single(s => s.Step == "decide")));
        Assert.False(Threshold.Parse("rps>=1000000").Holds(stats[0]));
        Directory.CreateDirectory(_report);
        var markdown = Report.Markdown(stats, "smoke", [(check, stats[0], true)]);
        Assert.Contains("| storefront | decide |", markdown);
        Assert.Contains("<svg", Report.Html(stats, "smoke", Report.Table(stats)));
    }

    [Theory]
    [InlineData("p99<=5ms", "p99", true, 5)]
    [InlineData("decide:p99.9 <= 1s", "p99.9", true, 1000)]
    [InlineData("errors<=0.1%", "errors", true, 0.001)]
    [InlineData("rps>=2000", "rps", false, 2000)]
    public void ThresholdsParse(string text, string metric, bool atMost, double limit)
    {
        var t = Threshold.Parse(text);

        Assert.Equal((metric, atMost), (t.Metric, t.AtMost));
        Assert.Equal(limit, t.Limit, 9);
    }

    [Theory]
    [InlineData("p99=5ms")]
    [InlineData("latency<=5ms")]
    [InlineData("p99<=fast")]
    public void BadThresholdsAreRefusedWithAReason(string text)
    {
        Assert.Throws<FormatException>(() => Threshold.Parse(text));
    }

    [Fact]
    public void LoadGoesOnlyToLoopback()
    {
        Assert.Throws<ArgumentException>(() => Runner.RequireLoopback(new Uri("http://10.0.0.1:5080")));
        Runner.RequireLoopback(new Uri("http://127.0.0.1:5080"));
    }
}

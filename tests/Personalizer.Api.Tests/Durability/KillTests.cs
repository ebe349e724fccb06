using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Durability;

/// <summary>The real service as a child process, killed without warning (SIGKILL) right after its 202s.</summary>
public sealed class KillTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-kill-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task EveryAcknowledgedEventSurvivesAKillExactlyOnce()
    {
        const int Batches = 40;
        const int PerBatch = 25;
        var acknowledged = 0;
        using (var service = await ServiceProcess.StartAsync(_data))
        {
            var client = service.Client(PersonalizerApp.SiteKey);
            // Batches in parallel, with periodic checkpoints (every second) running meanwhile.
            await Parallel.ForEachAsync(Enumerable.Range(0, Batches), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (b, ct) =>
            {
                var events = Enumerable.Range(0, PerBatch).Select(i => PageView($"b{b}-e{i}", $"v-{(b * PerBatch + i) % 10}")).ToArray();
                var response = await client.SendEvents(events);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Interlocked.Add(ref acknowledged, (await response.Json()).GetProperty("accepted").GetInt32());
            });
            service.Kill();
        }
        Assert.Equal(Batches * PerBatch, acknowledged);

        using var restarted = await ServiceProcess.StartAsync(_data);
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        var pageViews = 0;
        for (var v = 0; v < 10; v++)
        {
            var profile = await (await admin.GetAsync($"/v1/profiles/v-{v}")).Json();
            pageViews += profile.GetProperty("pageViews").GetInt32();
        }
        Assert.Equal(acknowledged, pageViews);

        // Sent again after the restart, the same events are recognised as duplicates.
        var again = await (await restarted.Client(PersonalizerApp.SiteKey).SendEvents(PageView("b0-e0", "v-0"))).Json();
        Assert.Equal(1, again.GetProperty("duplicates").GetInt32());
    }

    private const string HeroExperiment = """
        { "slot": "home-hero", "status": "running", "goal": "purchase", "controlPercent": 20, "attributionHours": 48,
          "arms": [ { "id": "A", "variant": "generic" }, { "id": "B", "variant": "welcome-back" } ] }
        """;

    [Fact]
    public async Task CountersStayExactlyOnceAfterAKill()
    {
        using var stop = new CancellationTokenSource();
        using (var service = await ServiceProcess.StartAsync(_data))
        {
            await service.Client(PersonalizerApp.AdminKey).PutJson("/v1/experiments/kill-test", HeroExperiment).AssertStatus(HttpStatusCode.OK);
            var client = service.Client(PersonalizerApp.SiteKey);
            // Shoppers decide, click and buy, with checkpoints every second, until the process is killed under them.
            var shoppers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
            {
                var random = new Random(worker);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var visitor = $"k-{random.Next(200)}";
                    try
                    {
                        await client.PostJson("/v1/decide", $$"""{"visitorId":"{{visitor}}","slots":["home-hero","home-recs"]}""");
                        var roll = random.NextDouble();
                        if (roll < 0.3)
                        {
                            await client.SendEvents($$"""{"eventId":"c-{{worker}}-{{n}}","type":"slot_click","visitorId":"{{visitor}}","slotId":"home-hero"}""");
                        }
                        else if (roll < 0.45)
                        {
                            await client.SendEvents($$"""{"eventId":"p-{{worker}}-{{n}}","type":"purchase","visitorId":"{{visitor}}","orderId":"o-{{worker}}-{{n}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":{{10 + random.Next(90)}}}]}""");
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return; // killed
                    }
                }
            })).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(4));
            service.Kill();
            await stop.CancelAsync();
            await Task.WhenAll(shoppers);
        }

        using var restarted = await ServiceProcess.StartAsync(_data);
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        var report = await (await admin.GetAsync("/v1/reports/slots?from=2020-01-01&to=2030-01-01")).Json();
        var results = await (await admin.GetAsync("/v1/experiments/kill-test/results")).Json();

        // The same figures the slow way: one scan of the log the restarted node holds.
        using var log = new Personalizer.Engine.Storage.Faster.FasterEventLog(Path.Combine(_data, "events"), 8, readOnly: true);
        var definition = new Personalizer.Engine.Configuration.ExperimentDefinition { Id = "kill-test", Goal = "purchase", AttributionHours = 48 };
        var scan = Personalizer.Testing.LogScan.Of(log, Personalizer.Engine.Profiles.ProfileRecordTags.ForReading(), "demo",
            new Dictionary<string, Personalizer.Engine.Configuration.ExperimentDefinition> { ["kill-test"] = definition });
        var rows = 0;
        foreach (var slot in report.GetProperty("slots").EnumerateArray())
        {
            foreach (var row in slot.GetProperty("rows").EnumerateArray())
            {
                var key = (slot.GetProperty("slot").GetString()!, row.GetProperty("variant").GetString()!, row.GetProperty("source").GetString()!);
                var expected = scan.Slots.Where(kv => (kv.Key.Slot, kv.Key.Variant, kv.Key.Source) == key).Select(kv => kv.Value).ToList();
                Assert.Equal(
                    (expected.Sum(e => e.Impressions), expected.Sum(e => e.Clicks), expected.Sum(e => e.Conversions), Math.Round(expected.Sum(e => e.Revenue), 2)),
                    (row.GetProperty("impressions").GetInt64(), row.GetProperty("clicks").GetInt64(), row.GetProperty("conversions").GetInt64(), row.GetProperty("revenue").GetDouble()));
                rows++;
            }
        }
        Assert.Equal(scan.Slots.Keys.Select(k => (k.Slot, k.Variant, k.Source)).Distinct().Count(), rows);
        Assert.True(scan.Slots.Values.Sum(v => v.Impressions) > 100, "the traffic should have been served");
        foreach (var arm in results.GetProperty("arms").EnumerateArray())
        {
            var want = scan.Arms.GetValueOrDefault(("kill-test", arm.GetProperty("arm").GetString()!));
            Assert.Equal((want.Exposed, want.Converted), (arm.GetProperty("exposures").GetInt32(), arm.GetProperty("conversions").GetInt32()));
            Assert.True(want.Exposed > 0);
        }
    }

    [Fact]
    public async Task AnErasureSurvivesAKill()
    {
        using (var service = await ServiceProcess.StartAsync(_data))
        {
            await service.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "v-gone"), PageView("e-2", "v-kept"));
            await service.Client(PersonalizerApp.AdminKey).DeleteAsync("/v1/profiles/v-gone").AssertStatus(HttpStatusCode.NoContent);
            service.Kill();
        }
        using var restarted = await ServiceProcess.StartAsync(_data);
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        await admin.GetAsync("/v1/profiles/v-gone").AssertStatus(HttpStatusCode.NotFound);
        await admin.GetAsync("/v1/profiles/v-kept").AssertStatus(HttpStatusCode.OK);
    }
}

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

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Personalizer.Testing;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Cluster;

/// <summary>
/// A Redis Cluster of three masters with a replica each, and the service on it: a master is killed under
/// traffic, its replica takes over, and every event the service acknowledged is found in the profiles.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private const int Visitors = 60;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-failover-tests", Guid.NewGuid().ToString("N"));
    private RedisCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await RedisCluster.StartAsync(replicas: 1);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task AMasterKilledUnderTrafficLosesNoAcknowledgedEvent()
    {
        await WaitForReplicasAsync();
        using var service = await ServiceProcess.StartAsync(_data, checkpointSeconds: 1,
            "--Personalizer:Store=Redis", $"--Personalizer:Redis:Configuration={_cluster.Configuration}",
            "--Personalizer:Redis:KeyPrefix=fo", "--Personalizer:NodeId=fo-1");
        var site = service.Client(PersonalizerApp.SiteKey);
        var acknowledged = new ConcurrentDictionary<string, int>();
        var next = 0;
        var queued = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var first = Interlocked.Add(ref next, 10) - 10;
                var events = Enumerable.Range(first, 10).Select(i => PageView($"fo-{i}", $"v-{i % Visitors}")).ToArray();
                var response = await site.SendEvents(events);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    await Task.Delay(50);
                    continue; // refused: not acknowledged, not counted
                }
                var body = await response.Json();
                Assert.Equal(10, body.GetProperty("accepted").GetInt32() + body.GetProperty("queued").GetInt32());
                Interlocked.Add(ref queued, body.GetProperty("queued").GetInt32()); // durable in the local log while the store was away
                foreach (var i in Enumerable.Range(first, 10))
                {
                    acknowledged.AddOrUpdate($"v-{i % Visitors}", 1, (_, n) => n + 1);
                }
            }
        })).ToArray();

        await Task.Delay(2000);
        var master = await MasterAsync();
        master.Kill();
        await Task.Delay(8000); // the replica's election takes about two node timeouts (2 s each)
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Values.Sum() > 0);
        Assert.True(queued > 0, "the kill never made the store unreachable: the test did not test a failover");

        // Once the store is back and the local log is drained, every acknowledged event is in its profile.
        var admin = service.Client(PersonalizerApp.AdminKey);
        var clock = Stopwatch.StartNew();
        Dictionary<string, int> seen = [];
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            seen = [];
            foreach (var visitor in acknowledged.Keys)
            {
                var response = await admin.GetAsync($"/v1/profiles/{visitor}");
                seen[visitor] = response.IsSuccessStatusCode ? (await response.Json()).GetProperty("pageViews").GetInt32() : -1;
            }
            if (acknowledged.All(a => seen[a.Key] == a.Value))
            {
                return;
            }
            await Task.Delay(500);
        }
        var wrong = acknowledged.Where(a => seen[a.Key] != a.Value).Select(a => $"{a.Key}: {seen[a.Key]} of {a.Value}");
        Assert.Fail($"not every acknowledged event is in the profiles: {string.Join(", ", wrong.Take(10))}\n{service.Output}");
    }

    private async Task WaitForReplicasAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var roles = await Task.WhenAll(_cluster.Nodes.Select(n => n.CliAsync("info", "replication")));
            if (roles.Count(r => r.Contains("role:slave", StringComparison.Ordinal) && r.Contains("master_link_status:up", StringComparison.Ordinal)) == 3)
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The replicas did not catch up with their masters within 30 s.");
    }

    private async Task<RedisServer> MasterAsync()
    {
        foreach (var node in _cluster.Nodes)
        {
            if ((await node.CliAsync("info", "replication")).Contains("role:master", StringComparison.Ordinal))
            {
                return node;
            }
        }
        throw new InvalidOperationException("no master");
    }
}

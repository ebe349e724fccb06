using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Personalizer.Testing;

namespace Personalizer.Api.Tests.Cluster;

/// <summary>
/// Real processes: redis-server, two API nodes sharing it, and the YARP gateway in front of them.
/// </summary>
public sealed class MultiNodeTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "p13n-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly string _prefix = "m" + Guid.NewGuid().ToString("N")[..8];
    private RedisServer _redis = null!;
    private readonly List<ServiceProcess> _processes = [];

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync(appendOnly: true);

    public async Task DisposeAsync()
    {
        foreach (var p in _processes)
        {
            p.Dispose();
        }
        await _redis.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<ServiceProcess> NodeAsync(string name, int checkpointSeconds = 5, params string[] extra)
    {
        var node = await ServiceProcess.StartAsync(Path.Combine(_root, name), checkpointSeconds,
            [
                "--Personalizer:Store=Redis",
                $"--Personalizer:Redis:Configuration={_redis.Endpoint}",
                $"--Personalizer:Redis:KeyPrefix={_prefix}",
                $"--Personalizer:NodeId={name}",
                .. extra,
            ]);
        _processes.Add(node);
        return node;
    }

    private static string Decide(string visitor) => $$"""{"visitorId":"{{visitor}}","slots":["home-hero","home-recs"]}""";

    private static async Task<JsonElement> SlotAsync(HttpClient client, string visitor, string slot)
    {
        var response = await client.PostJson("/v1/decide", Decide(visitor));
        response.EnsureSuccessStatusCode();
        return (await response.Json()).GetProperty("slots").GetProperty(slot);
    }

    [Fact]
    public async Task AModelTrainedOnOneNodeLearnsFromEventsThatWentOnlyToTheOther()
    {
        var archive = Path.Combine(_root, "shared-archive");
        Directory.CreateDirectory(archive);
        string[] shared = ["--Personalizer:Archive:IntervalSeconds=1", $"--Personalizer:Archive:Path={archive}"];
        var a = await NodeAsync("node-a", checkpointSeconds: 1, shared);
        var b = await NodeAsync("node-b", checkpointSeconds: 1, shared);
        string View(string id, string visitor, int item) => ProductViewOf(id, visitor, $"sku-run-00{1 + item % 5}");
        await a.Client(PersonalizerApp.SiteKey).SendEvents([.. Enumerable.Range(0, 30).Select(i => View($"a{i}", $"on-a-{i % 10}", i))]).AssertStatus(HttpStatusCode.Accepted);
        await b.Client(PersonalizerApp.SiteKey).SendEvents([.. Enumerable.Range(0, 30).Select(i => View($"b{i}", $"on-b-{i % 15}", i))]).AssertStatus(HttpStatusCode.Accepted);

        // Node B's events reach the shared folder as its own files once checkpointed and archived.
        var clock = Stopwatch.StartNew();
        while (!Directory.EnumerateFiles(archive, "node-b-*.parquet", SearchOption.AllDirectories).Any() && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }
        Assert.NotEmpty(Directory.EnumerateFiles(archive, "node-b-*.parquet", SearchOption.AllDirectories));

        // Trained on node A: its own 10 visitors and node B's 15.
        var trained = await (await a.Client(PersonalizerApp.AdminKey).PostAsync("/v1/models/train?wait=true", null)).Json();
        Assert.Equal(25, trained.GetProperty("users").GetInt32());
    }

    [Fact]
    public async Task ASiteMadeAtRuntimeServesOnBothNodesAndARevokedKeyIsRefusedOnBoth()
    {
        string[] operatorKey = ["--Personalizer:OperatorKeys:0=operator-key-for-tests"];
        var a = await NodeAsync("node-a", 5, operatorKey);
        var b = await NodeAsync("node-b", 5, operatorKey);
        using var op = a.Client("operator-key-for-tests");
        await op.PutJson("/v1/sites/shop2", """{"origins":["https://shop2.example"],"rateLimit":{"perSecond":0}}""").AssertStatus(HttpStatusCode.OK);
        var created = await (await op.PostJson("/v1/sites/shop2/keys", """{"role":"site"}""")).Json();
        var key = created.GetProperty("key").GetString()!;
        var keyId = created.GetProperty("keyId").GetString()!;
        // An operator key reads no site's data.
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PostJson("/v1/decide", Decide("x"))).StatusCode);

        foreach (var node in new[] { a, b })
        {
            using var client = node.Client(key);
            var clock = Stopwatch.StartNew();
            HttpStatusCode status;
            do
            {
                status = (await client.PostJson("/v1/decide", Decide("rt-1"))).StatusCode;
            }
            while (status != HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(5) && await Task.Delay(50).ContinueWith(_ => true));
            Assert.Equal(HttpStatusCode.OK, status);
        }
        var listed = await (await b.Client("operator-key-for-tests").GetAsync("/v1/sites")).Json();
        Assert.Contains(listed.EnumerateArray(), s => s.GetProperty("id").GetString() == "shop2");
        Assert.DoesNotContain(key, listed.GetRawText(), StringComparison.Ordinal); // only fingerprints

        await op.DeleteAsync($"/v1/sites/shop2/keys/{keyId}").AssertStatus(HttpStatusCode.NoContent);
        var revoked = Stopwatch.StartNew();
        foreach (var node in new[] { a, b })
        {
            using var client = node.Client(key);
            while ((await client.PostJson("/v1/decide", Decide("rt-2"))).StatusCode != HttpStatusCode.Unauthorized && revoked.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(20);
            }
        }
        Assert.True(revoked.Elapsed < TimeSpan.FromSeconds(1), $"the revoked key was still taken after {revoked.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(HttpStatusCode.Unauthorized, (await b.Client(key).PostJson("/v1/decide", Decide("rt-3"))).StatusCode);
    }

    private static string ProductViewOf(string id, string visitor, string item) => HttpTestExtensions.ProductView(id, visitor, item);

    [Fact]
    public async Task AReportReadOnOneNodeCountsWhatTheOtherNodeServedAndSold()
    {
        var a = await NodeAsync("node-a");
        var b = await NodeAsync("node-b");
        var siteA = a.Client(PersonalizerApp.SiteKey);
        for (var i = 0; i < 20; i++)
        {
            await SlotAsync(siteA, $"r-{i}", "home-hero");
        }
        // Each purchase follows its decide on the same node, as a gateway routing by visitor has it.
        for (var i = 0; i < 5; i++)
        {
            await siteA.SendEvents($$"""{"eventId":"buy-{{i}}","type":"purchase","visitorId":"r-{{i}}","orderId":"o-{{i}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":20}]}""")
                .AssertStatus(HttpStatusCode.Accepted);
        }
        await SlotAsync(b.Client(PersonalizerApp.SiteKey), "r-b", "home-hero");

        var adminB = b.Client(PersonalizerApp.AdminKey);
        JsonElement hero = default;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var report = await (await adminB.GetAsync("/v1/reports/slots")).Json();
            hero = report.GetProperty("slots").EnumerateArray().FirstOrDefault(s => s.GetProperty("slot").GetString() == "home-hero");
            if (hero.ValueKind == JsonValueKind.Object && hero.GetProperty("impressions").GetInt64() == 21)
            {
                break;
            }
            await Task.Delay(100);
        }
        Assert.Equal(21, hero.GetProperty("impressions").GetInt64()); // 20 served by node A, 1 by node B
        Assert.Equal(5, hero.GetProperty("conversions").GetInt64());
        Assert.Equal(100, hero.GetProperty("revenue").GetDouble());
        var onA = await (await a.Client(PersonalizerApp.AdminKey).GetAsync("/v1/reports/slots")).Json();
        Assert.Equal(hero.GetRawText(), onA.GetProperty("slots").EnumerateArray().First(s => s.GetProperty("slot").GetString() == "home-hero").GetRawText());
    }

    [Fact]
    public async Task ARuleSavedOnOneNodeIsUsedByTheOtherWithinASecond()
    {
        var a = await NodeAsync("node-a");
        var b = await NodeAsync("node-b");
        using var adminA = a.Client(PersonalizerApp.AdminKey);
        using var siteB = b.Client(PersonalizerApp.SiteKey);
        // Both nodes hold the seeded demo configuration (seeded once, by one of them).
        Assert.Equal("default", (await SlotAsync(siteB, "v1", "home-hero")).GetProperty("source").GetString());

        await adminA.PutJson("/v1/rules/everyone", """{"slot":"home-hero","when":"true","then":{"variant":"welcome-back"}}""").AssertStatus(HttpStatusCode.OK);
        var clock = Stopwatch.StartNew(); // saved: node A answered
        string? source = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            source = (await SlotAsync(siteB, "v1", "home-hero")).GetProperty("source").GetString();
            if (source == "rule:everyone")
            {
                break;
            }
            await Task.Delay(20);
        }
        var seen = clock.Elapsed;
        Assert.Equal("rule:everyone", source);
        Assert.True(seen < TimeSpan.FromSeconds(1), $"node B used the rule after {seen.TotalMilliseconds:F0} ms");

        // The history is the same on both nodes: one ordered stream of changes.
        using var adminB = b.Client(PersonalizerApp.AdminKey);
        var historyA = await (await adminA.GetAsync("/v1/config/history")).Content.ReadAsStringAsync();
        var historyB = await (await adminB.GetAsync("/v1/config/history")).Content.ReadAsStringAsync();
        Assert.Equal(historyA, historyB);
    }

    [Fact]
    public async Task KillingANodeBehindTheGatewayLosesNoRequestAndNoAcknowledgedEvent()
    {
        var a = await NodeAsync("node-a");
        var b = await NodeAsync("node-b");
        var gateway = await ServiceProcess.StartGatewayAsync([a.Address, b.Address], "--Gateway:HealthIntervalSeconds=0.5");
        _processes.Add(gateway);
        using var client = gateway.Client(PersonalizerApp.SiteKey);

        var acknowledged = new ConcurrentDictionary<string, string>(); // event id -> visitor
        var failures = new ConcurrentQueue<string>();
        var sent = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        async Task Worker(int worker)
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var visitor = $"v{worker}-{n % 10}";
                var id = $"w{worker}-{n++}";
                Interlocked.Increment(ref sent);
                using var events = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
                {
                    Content = new StringContent($$"""{"events":[{{HttpTestExtensions.PageView(id, visitor)}}]}""", System.Text.Encoding.UTF8, "application/json"),
                };
                events.Headers.Add("X-Visitor-Id", visitor);
                try
                {
                    var response = await client.SendAsync(events);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        acknowledged[id] = visitor;
                    }
                    else
                    {
                        failures.Enqueue($"events {id}: {(int)response.StatusCode}");
                    }
                    using var decide = new HttpRequestMessage(HttpMethod.Post, "/v1/decide")
                    {
                        Content = new StringContent(Decide(visitor), System.Text.Encoding.UTF8, "application/json"),
                    };
                    decide.Headers.Add("X-Visitor-Id", visitor);
                    var decided = await client.SendAsync(decide);
                    if (!decided.IsSuccessStatusCode)
                    {
                        failures.Enqueue($"decide {visitor}: {(int)decided.StatusCode}");
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"{id}: {ex.Message}");
                }
            }
        }
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(() => Worker(w))).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(2));
        a.Kill(); // SIGKILL, mid-run
        await Task.WhenAll(workers);

        Assert.True(failures.IsEmpty, $"{failures.Count} of {sent} requests failed: {string.Join("; ", failures.Take(5))}\nnode B: {b.Output}\ngateway: {gateway.Output}");
        Assert.Equal(sent, acknowledged.Count);

        // Every acknowledged event is in the shared store exactly once, read through the surviving node.
        using var admin = b.Client(PersonalizerApp.AdminKey);
        foreach (var group in acknowledged.GroupBy(kv => kv.Value))
        {
            var profile = await (await admin.GetAsync($"/v1/profiles/{group.Key}")).Json();
            Assert.Equal(group.Count(), profile.GetProperty("pageViews").GetInt32());
        }
    }

    [Fact]
    public async Task WithRedisStoppedDecideFallsBackAndEventsSentMeanwhileReachRedisWhenItReturns()
    {
        var node = await NodeAsync("node-a");
        using var site = node.Client(PersonalizerApp.SiteKey);
        using var admin = node.Client(PersonalizerApp.AdminKey);
        await site.SendEvents(HttpTestExtensions.PageView("before-1", "v-out")).AssertStatus(HttpStatusCode.Accepted);
        Assert.Equal("default", (await SlotAsync(site, "v-out", "home-hero")).GetProperty("source").GetString());

        await _redis.StopAsync();

        var during = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            var decision = await site.PostJson("/v1/decide", Decide("v-out"));
            Assert.Equal(HttpStatusCode.OK, decision.StatusCode);
            var slots = (await decision.Json()).GetProperty("slots");
            Assert.Equal("fallback", slots.GetProperty("home-hero").GetProperty("source").GetString());
            Assert.Equal("fallback", slots.GetProperty("home-recs").GetProperty("source").GetString());
            Assert.NotEmpty(slots.GetProperty("home-recs").GetProperty("items").EnumerateArray());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"decide took {clock.Elapsed.TotalMilliseconds:F0} ms with Redis down");

            var id = $"during-{i}";
            var response = await site.SendEvents(HttpTestExtensions.PageView(id, "v-out"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            during.Add(id);
        }
        var ready = await node.Client(PersonalizerApp.SiteKey).GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await admin.GetAsync("/v1/profiles/v-out")).StatusCode);

        await _redis.RestartAsync();

        var deadline = Stopwatch.StartNew();
        var pageViews = 0;
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var response = await admin.GetAsync("/v1/profiles/v-out");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                pageViews = (await response.Json()).GetProperty("pageViews").GetInt32();
                if (pageViews == 1 + during.Count)
                {
                    break;
                }
            }
            await Task.Delay(200);
        }
        Assert.Equal(1 + during.Count, pageViews);
        Assert.Equal("Healthy", await (await site.GetAsync("/readyz")).Content.ReadAsStringAsync());
        // Resent after the outage: duplicates, not new page views.
        var resent = await (await site.SendEvents(HttpTestExtensions.PageView("during-3", "v-out"))).Json();
        Assert.Equal(1, resent.GetProperty("duplicates").GetInt32());
    }
}

using Personalizer.Engine.Events;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Storage.Redis;
using Personalizer.Engine.Tests.Pipeline;
using static Personalizer.Engine.Tests.TestData;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>Two nodes, each with its own durable log, folding into one Redis.</summary>
public sealed class SharedStoreLedgerTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime, IDisposable
{
    private readonly TempFolder _a = new();
    private readonly TempFolder _b = new();
    private readonly RedisOptions _redisOptions = new() { Configuration = redis.Server.Endpoint, KeyPrefix = "l" + Guid.NewGuid().ToString("N")[..8] };
    private readonly List<RedisConnection> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _connections)
        {
            await c.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private Task<LedgerHarness> NodeAsync(TempFolder folder, string node) => LedgerHarness.StartAsync(folder.Path, options =>
    {
        options.NodeId = node;
        var connection = new RedisConnection(_redisOptions);
        _connections.Add(connection);
        return new RedisProfileStore(connection, _redisOptions, Path.Combine(options.DataPath, "state"));
    }, () => new RedisCounterStore(_connections[^1]));

    [Fact]
    public async Task TwoNodesFoldingOneVisitorAtOnceLoseNothing()
    {
        await using var a = await NodeAsync(_a, "node-a");
        await using var b = await NodeAsync(_b, "node-b");
        const int batches = 40;
        var fromA = Enumerable.Range(0, batches).Select(i => a.Ledger.SubmitAsync(new EventBatchRecord("s", [Event($"a{i}", EventType.PageView, "shared")])));
        var fromB = Enumerable.Range(0, batches).Select(i => b.Ledger.SubmitAsync(new EventBatchRecord("s", [Event($"b{i}", EventType.PageView, "shared")])));
        await Task.WhenAll(fromA.Concat(fromB));

        var profile = await a.ProfileAsync("s", "shared");
        Assert.Equal(2 * batches, profile!.PageViews);
        Assert.Equal(batches, profile.AppliedByNode!["node-a"]);
        Assert.Equal(batches, profile.AppliedByNode!["node-b"]);
    }

    [Fact]
    public async Task AnEventSentToBothNodesCountsOnce()
    {
        await using var a = await NodeAsync(_a, "node-a");
        await using var b = await NodeAsync(_b, "node-b");
        var first = await a.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("retry-1", EventType.PageView, "v")]));
        var retried = await b.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("retry-1", EventType.PageView, "v")]));
        Assert.Equal(1, first.Applied);
        Assert.Equal(1, retried.Duplicates);
        Assert.Equal(1, (await b.ProfileAsync("s", "v"))!.PageViews);
    }

    [Fact]
    public async Task ANodeReplayingItsLogAfterACrashFoldsNothingTwice()
    {
        var a = await NodeAsync(_a, "node-a");
        await using var b = await NodeAsync(_b, "node-b");
        await a.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("a1", EventType.PageView, "v")]));
        await b.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("b1", EventType.PageView, "v")]));
        await a.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("a2", EventType.PageView, "v")]));
        await a.CrashAsync(); // no checkpoint: the whole log of node A is replayed

        await using var again = await NodeAsync(_a, "node-a");
        await again.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("a3", EventType.PageView, "v")]));
        Assert.Equal(4, (await b.ProfileAsync("s", "v"))!.PageViews);
    }
}

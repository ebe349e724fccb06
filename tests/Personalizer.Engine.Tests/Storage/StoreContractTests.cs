using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Storage.Faster;
using Personalizer.Engine.Storage.Redis;
using Personalizer.Testing;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>
/// The contract of <see cref="IProfileStore"/>: the same tests run against the embedded FASTER store,
/// a single Redis and a three-master Redis Cluster, each started by the tests.
/// </summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _opened = [];

    protected TempFolder Folder { get; } = new();

    /// <summary>A store over the test's own data; a second call opens the same data again (as after a restart).</summary>
    protected abstract IProfileStore Open();

    /// <summary>The counter store that lives beside the profiles of <see cref="Open"/>.</summary>
    protected abstract ICounterStore Counters(IProfileStore store);

    private IProfileStore OpenTracked()
    {
        var store = Open();
        _opened.Add(store);
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }
        await DisposeMoreAsync();
        Folder.Dispose();
    }

    protected virtual Task DisposeMoreAsync() => Task.CompletedTask;

    private static VisitorProfile Profile(string id, int pageViews = 1) => new()
    {
        VisitorId = id,
        PageViews = pageViews,
        RecentlyViewed = [new ViewedItem { ItemId = "i1", At = 5 }],
        Affinity = [new CategoryAffinity { Category = "running", Score = 1.5, UpdatedAt = 7 }],
    };

    [Fact]
    public async Task AProfileWrittenIsReadBackWhole()
    {
        var store = OpenTracked();
        var written = Profile("v1", pageViews: 3);
        written.Cart = [new CartLine { ItemId = "i2", Quantity = 2, Price = 9.5, AddedAt = 11 }];
        await store.PutAsync("s", written);

        var read = await store.GetAsync("s", "v1");
        Assert.NotNull(read);
        Assert.Equal(3, read.PageViews);
        Assert.Equal("i1", Assert.Single(read.RecentlyViewed).ItemId);
        Assert.Equal(9.5, Assert.Single(read.Cart).Price);
        Assert.Equal(1.5, Assert.Single(read.Affinity).Score);
        Assert.Equal(1, read.Revision);
        Assert.Equal(1, written.Revision);
        Assert.Null(await store.GetAsync("s", "nobody"));
    }

    [Fact]
    public async Task AWriteFromAStaleReadIsRefusedAndChangesNothing()
    {
        var store = OpenTracked();
        await store.PutAsync("s", Profile("v1"));
        var first = (await store.GetAsync("s", "v1"))!;
        var second = (await store.GetAsync("s", "v1"))!;

        first.PageViews = 10;
        await store.PutAsync("s", first);
        second.PageViews = 20;
        await Assert.ThrowsAsync<WriteConflictException>(() => store.PutAsync("s", second).AsTask());

        Assert.Equal(10, (await store.GetAsync("s", "v1"))!.PageViews);
        // Creating over an existing profile is a conflict too.
        await Assert.ThrowsAsync<WriteConflictException>(() => store.PutAsync("s", Profile("v1")).AsTask());
    }

    [Fact]
    public async Task ConcurrentReadModifyWriteLosesNoUpdate()
    {
        var store = OpenTracked();
        const int writers = 4, increments = 50;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < increments; i++)
            {
                while (true)
                {
                    var profile = await store.GetAsync("s", "hot") ?? new VisitorProfile { VisitorId = "hot" };
                    profile.PageViews++;
                    try
                    {
                        await store.PutAsync("s", profile);
                        break;
                    }
                    catch (WriteConflictException)
                    {
                    }
                }
            }
        })));
        var final = (await store.GetAsync("s", "hot"))!;
        Assert.Equal(writers * increments, final.PageViews);
        Assert.Equal(writers * increments, final.Revision);
    }

    [Fact]
    public async Task ADeletedProfileIsGoneAndCanStartAgain()
    {
        var store = OpenTracked();
        await store.PutAsync("s", Profile("v1", 5));
        await store.DeleteAsync("s", "v1");
        Assert.Null(await store.GetAsync("s", "v1"));
        await store.DeleteAsync("s", "v1"); // deleting nothing is fine

        await store.PutAsync("s", Profile("v1", 1));
        Assert.Equal(1, (await store.GetAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task AnEventIdBelongsToTheFirstRecordThatClaimsIt()
    {
        var store = OpenTracked();
        var mine = new EventClaim("node-a", 7);
        Assert.Null(await store.GetEventClaimAsync("s", "v1", "e1"));
        Assert.True(await store.ClaimEventAsync("s", "v1", "e1", mine));
        Assert.Equal(mine, await store.GetEventClaimAsync("s", "v1", "e1"));
        Assert.True(await store.ClaimEventAsync("s", "v1", "e1", mine)); // the same record, replayed
        Assert.False(await store.ClaimEventAsync("s", "v1", "e1", new EventClaim("node-a", 8)));
        Assert.False(await store.ClaimEventAsync("s", "v1", "e1", new EventClaim("node-b", 7)));
        Assert.True(await store.ClaimEventAsync("other", "v1", "e1", new EventClaim("node-b", 7)));
        Assert.True(await store.ClaimEventAsync("s", "v2", "e1", new EventClaim("node-b", 7)));
    }

    [Fact]
    public async Task ConcurrentClaimsOfOneEventHaveOneWinner()
    {
        var store = OpenTracked();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(async () => await store.ClaimEventAsync("s", "v1", "contested", new EventClaim("node-" + i, i)))));
        Assert.Equal(1, results.Count(won => won));
    }

    [Fact]
    public async Task AProfileWriteClaimsItsEventsAtomically()
    {
        var store = OpenTracked();
        var mine = new EventClaim("node-a", 3);
        await store.PutAsync("s", Profile("v1"), new EventClaims(mine, ["e1", "e2"]));
        Assert.Equal(mine, await store.GetEventClaimAsync("s", "v1", "e1"));
        Assert.Equal(mine, await store.GetEventClaimAsync("s", "v1", "e2"));

        // Another record holding one of the events: nothing of the write happens.
        var profile = (await store.GetAsync("s", "v1"))!;
        Assert.True(await store.ClaimEventAsync("s", "v1", "e4", new EventClaim("node-b", 9)));
        profile.PageViews = 99;
        await Assert.ThrowsAsync<WriteConflictException>(() => store.PutAsync("s", profile, new EventClaims(mine, ["e3", "e4"])).AsTask());
        Assert.Null(await store.GetEventClaimAsync("s", "v1", "e3"));
        var stored = (await store.GetAsync("s", "v1"))!;
        Assert.Equal(1, stored.PageViews);

        // The same record again (a replay) may re-claim what it holds.
        stored.PageViews = 2;
        await store.PutAsync("s", stored, new EventClaims(mine, ["e1", "e5"]));
        Assert.Equal(mine, await store.GetEventClaimAsync("s", "v1", "e5"));
    }

    [Fact]
    public async Task CustomerIndexMapsACustomerToTheHoldingVisitor()
    {
        var store = OpenTracked();
        Assert.Null(await store.GetCustomerVisitorAsync("s", "c1"));
        await store.PutCustomerVisitorAsync("s", "c1", "v1");
        Assert.Equal("v1", await store.GetCustomerVisitorAsync("s", "c1"));
        await store.PutCustomerVisitorAsync("s", "c1", "v2");
        Assert.Equal("v2", await store.GetCustomerVisitorAsync("s", "c1"));
        await store.DeleteCustomerVisitorAsync("s", "c1");
        Assert.Null(await store.GetCustomerVisitorAsync("s", "c1"));
    }

    [Fact]
    public async Task SitesNeverSeeEachOthersKeys()
    {
        var store = OpenTracked();
        await store.PutAsync("a", Profile("v1", 1));
        await store.PutAsync("b", Profile("v1", 2));
        await store.PutCustomerVisitorAsync("a", "c1", "v1");
        Assert.Equal(1, (await store.GetAsync("a", "v1"))!.PageViews);
        Assert.Equal(2, (await store.GetAsync("b", "v1"))!.PageViews);
        Assert.Null(await store.GetCustomerVisitorAsync("b", "c1"));
    }

    [Fact]
    public async Task ACheckpointMarkerAndItsWritesSurviveAReopen()
    {
        var store = OpenTracked();
        await store.PutAsync("s", Profile("v1", 4));
        Assert.True(await store.CheckpointAsync(new CheckpointMarker(ReplayFrom: 1234, LastSeq: 56), full: true));
        await store.DisposeAsync();
        _opened.Remove(store);

        var reopened = OpenTracked();
        var marker = await reopened.RecoverAsync();
        Assert.Equal(new CheckpointMarker(1234, 56), marker);
        var profile = await reopened.GetAsync("s", "v1");
        Assert.Equal(4, profile!.PageViews);
        // Revisions carry on after a restart: a stale writer is still refused.
        await Assert.ThrowsAsync<WriteConflictException>(() => reopened.PutAsync("s", Profile("v1")).AsTask());
    }

    [Fact]
    public async Task CountersAddEachRecordOnceAndReadBackInOrder()
    {
        var counters = Counters(OpenTracked());
        static CounterDelta Delta(string key, string field, double value)
        {
            var delta = new CounterDelta(key);
            delta.Add(field, value);
            return delta;
        }
        var first = Delta("slot/hero/1", "a|default|i", 2);
        first.Add("a|default|r", 12.25);
        await counters.AddAsync("s", [first], "", 5);
        await counters.AddAsync("s", [Delta("slot/hero/1", "a|default|i", 2)], "", 5); // the same record again: a replay
        await counters.AddAsync("s", [Delta("slot/hero/1", "a|default|i", 1), Delta("slot/offer/1", "x|rule:r|c", 1)], "", 6);
        await counters.AddAsync("t", [Delta("slot/hero/1", "a|default|i", 100)], "", 7); // another site

        var bags = await counters.ReadAsync("s", ["slot/offer/1", "nothing", "slot/hero/1"]);
        Assert.Equal(1, bags[0]["x|rule:r|c"]);
        Assert.Empty(bags[1]);
        Assert.Equal(3, bags[2]["a|default|i"]);
        Assert.Equal(12.25, bags[2]["a|default|r"]);
        Assert.Equal(2, bags[2].Count);
    }

    [Fact]
    public async Task ALargeProfileRoundTrips()
    {
        var store = OpenTracked();
        var big = Profile("big");
        big.PurchasedItems = [.. Enumerable.Range(0, 1000).Select(i => "item-" + i)];
        await store.PutAsync("s", big);
        Assert.Equal(1000, (await store.GetAsync("s", "big"))!.PurchasedItems.Count);
    }
}

public sealed class FasterStoreContractTests : StoreContractTests
{
    protected override IProfileStore Open()
    {
        var options = TestData.Options(Folder.Path).Faster;
        return new FasterProfileStore(Path.Combine(Folder.Path, "profiles"), options, NullLogger.Instance);
    }

    protected override ICounterStore Counters(IProfileStore store) => (FasterProfileStore)store;
}

/// <summary>One redis-server for every test of the class; each test has its own key prefix.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class RedisClusterFixture : IAsyncLifetime
{
    public RedisCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await RedisCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public abstract class RedisContractTestsBase(string configuration) : StoreContractTests
{
    private readonly List<RedisConnection> _connections = [];

    protected RedisOptions Options { get; } = new()
    {
        Configuration = configuration,
        KeyPrefix = "t" + Guid.NewGuid().ToString("N")[..8],
        AnonymousProfileTtlDays = 30,
    };

    protected RedisConnection Connect()
    {
        var connection = new RedisConnection(Options);
        _connections.Add(connection);
        // The connection may still be completing its handshake when the constructor returns (it does not abort
        // on a slow connect, so a node starts while Redis is away); a contract test needs it up.
        Assert.True(SpinWait.SpinUntil(() => connection.IsConnected, TimeSpan.FromSeconds(30)), "Redis did not connect within 30 s");
        return connection;
    }

    protected override IProfileStore Open() => new RedisProfileStore(Connect(), Options, Path.Combine(Folder.Path, "state"));

    protected override ICounterStore Counters(IProfileStore store) => new RedisCounterStore(Connect());

    [Fact]
    public async Task CountersKeepEachNodesRecordsApart()
    {
        var counters = new RedisCounterStore(Connect());
        var delta = new CounterDelta("exp/e/1");
        delta.Add("A|n", 1);
        await counters.AddAsync("s", [delta], "node-a", 9);
        await counters.AddAsync("s", [delta], "node-b", 3); // another node's own sequence: counts
        await counters.AddAsync("s", [delta], "node-a", 9); // node A's record again: does not
        await counters.AddAsync("s", [delta], "node-b", 2); // an older record of node B: does not

        var bag = Assert.Single(await counters.ReadAsync("s", ["exp/e/1"]));
        Assert.Equal(2, bag["A|n"]);
        Assert.Single(bag);
    }

    protected override async Task DisposeMoreAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnonymousProfilesExpireAndCustomersDoNot()
    {
        var store = (RedisProfileStore)Open();
        var db = Connect().Database;
        await store.PutAsync("s", new VisitorProfile { VisitorId = "anon" });
        var ttl = await db.KeyTimeToLiveAsync(store.ProfileKey("s", "anon"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromDays(29), TimeSpan.FromDays(30));

        var customer = (await store.GetAsync("s", "anon"))!;
        customer.CustomerId = "c1";
        await store.PutAsync("s", customer);
        Assert.Null(await db.KeyTimeToLiveAsync(store.ProfileKey("s", "anon")));
    }

    [Fact]
    public void AVisitorsKeysShareOneClusterSlot()
    {
        var store = (RedisProfileStore)Open();
        var profile = store.ProfileKey("shop", "v-42").ToString();
        var claim = store.EventKey("shop", "v-42", "e-1").ToString();
        static string Tag(string key) => key[(key.IndexOf('{', StringComparison.Ordinal) + 1)..key.IndexOf('}', StringComparison.Ordinal)];
        Assert.Equal("shop/v-42", Tag(profile));
        Assert.Equal("shop/v-42", Tag(claim));
        var cluster = Connect().Multiplexer;
        Assert.Equal(cluster.HashSlot(profile), cluster.HashSlot(claim)); // -1 on a single Redis, the same slot on a cluster
    }
}

public sealed class RedisStoreContractTests(RedisFixture redis) : RedisContractTestsBase(redis.Server.Endpoint), IClassFixture<RedisFixture>;

public sealed class RedisClusterStoreContractTests(RedisClusterFixture redis) : RedisContractTestsBase(redis.Cluster.Configuration), IClassFixture<RedisClusterFixture>;

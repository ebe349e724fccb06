using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Triggers;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Pipeline;

/// <summary>A ledger over a real FASTER store and log in a folder; <see cref="CrashAsync"/> drops it without a checkpoint.</summary>
internal sealed class LedgerHarness : IAsyncDisposable
{
    private bool _closed;

    private LedgerHarness(string path, Func<PersonalizerOptions, IProfileStore>? store, Func<ICounterStore>? counters, TimeSpan? backgroundCommit, Func<IEventLog, IEventLog>? log)
    {
        Options = TestData.Options(path);
        Log = new FasterEventLog(System.IO.Path.Combine(path, "events"), Options.Faster.EventLogMemoryMb);
        Store = store?.Invoke(Options) ?? new FasterProfileStore(System.IO.Path.Combine(path, "profiles"), Options.Faster, NullLogger.Instance);
        Counters = counters?.Invoke() ?? (ICounterStore)Store;
        var node = Store.IsShared ? new LogNode(NodeIdentity.Resolve(path, Options.NodeId)) : LogNode.OnlyWriter;
        Trending = new TrendingTracker(Time, Options.Profiles.TrendingHalfLifeHours);
        var trending = new TrendingProjection(Trending);
        Triggers = new TriggerScheduler(Configuration, new CustomerModels(), Options.Profiles);
        var profiles = new ProfileProjection(Store, Catalog, Options.Profiles, node, [new CounterAttribution(Counters, Configuration, node, new CustomerModels()), trending, Triggers]);
        Registry = new ProjectionRegistry([profiles, new CatalogProjection(Catalog), new ConfigurationProjection(Configuration), trending, Triggers, new ModelRecords()]);
        Ledger = new Ledger(log?.Invoke(Log) ?? Log, Store, Registry, new LedgerOptions { DataPath = path, CheckpointIntervalSeconds = 0, BackgroundCommitInterval = backgroundCommit ?? TimeSpan.FromMilliseconds(20) }, Time, NullLogger<Ledger>.Instance);
    }

    public ICounterStore Counters { get; }
    public ProjectionRegistry Registry { get; }

    public PersonalizerOptions Options { get; }
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(TestData.T0));
    public FasterEventLog Log { get; }
    public IProfileStore Store { get; }
    public CatalogStore Catalog { get; } = new();
    public ConfigurationStore Configuration { get; } = new();
    public TrendingTracker Trending { get; }
    public Ledger Ledger { get; }
    public TriggerScheduler Triggers { get; }

    /// <param name="store">Another store than FASTER in <paramref name="path"/> (e.g. a shared Redis).</param>
    /// <param name="backgroundCommit">How long records nobody waits for may gather before their commit.</param>
    /// <param name="log">Wraps the event log the ledger writes to (a log that fails on demand).</param>
    public static async Task<LedgerHarness> StartAsync(string path, Func<PersonalizerOptions, IProfileStore>? store = null, Func<ICounterStore>? counters = null, TimeSpan? backgroundCommit = null, Func<IEventLog, IEventLog>? log = null)
    {
        var h = new LedgerHarness(path, store, counters, backgroundCommit, log);
        await h.Ledger.StartAsync(CancellationToken.None);
        return h;
    }

    public ValueTask<VisitorProfile?> ProfileAsync(string site, string visitor) => Store.GetAsync(site, visitor);

    /// <summary>Closes files as a killed process would leave them: no final checkpoint, nothing flushed beyond the commits.</summary>
    public async Task CrashAsync()
    {
        _closed = true;
        Log.Dispose();
        await Store.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        await Ledger.StopAsync(CancellationToken.None);
        Log.Dispose();
        await Store.DisposeAsync();
    }
}

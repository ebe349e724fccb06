using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Sites;
using Personalizer.Engine.Strategies;

namespace Personalizer.Benchmarks;

/// <summary>
/// <c>DecisionEngine.DecideAsync</c> end to end in process (profile read from the embedded FASTER store,
/// rules, strategies, filters, the impression queued): the demo site (320 items, its slots) with
/// 2,000 visitors of 12 product views each and a trained model; one decide of the four demo slots,
/// and one per strategy.
/// <c>dotnet run -c Release --project loadtests/Personalizer.Benchmarks -- --filter '*Decide*'</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class DecideBenchmarks
{
    private const string Site = "demo";
    private const int Visitors = 2_000;
    private ServiceProvider _services = null!;
    private DecisionEngine _engine = null!;
    private List<IHostedService> _hosted = [];
    private string _folder = "";
    private int _next;

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(10));
    }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _folder = Path.Combine(Path.GetTempPath(), "p13n-decide-bench-" + Guid.NewGuid().ToString("N"));
        var services = new ServiceCollection().AddLogging();
        services.AddPersonalizer(o =>
        {
            o.DataPath = _folder;
            o.DecideBudgetMs = 1000;
            o.CheckpointIntervalSeconds = 0;
            o.Recommendations.TrainIntervalMinutes = 0;
            o.Crm.RefreshMinutes = 0;
            o.Sites[Site] = new SiteOptions { SiteKeys = ["bench-site-key"], AdminKeys = ["bench-admin-key"] };
        });
        _services = services.BuildServiceProvider();
        _hosted = [.. _services.GetServices<IHostedService>()];
        foreach (var h in _hosted)
        {
            await h.StartAsync(CancellationToken.None);
        }
        var configuration = _services.GetRequiredService<ConfigurationService>();
        await configuration.PutSlotAsync(Site, new SlotDefinition { Id = "trending-recs", Kind = SlotKind.Recommendations, Strategy = RecommendationStrategies.Trending, Count = 8 }, "bench");
        await configuration.PutSlotAsync(Site, new SlotDefinition { Id = "viewed-recs", Kind = SlotKind.Recommendations, Strategy = RecommendationStrategies.RecentlyViewed, Count = 8 }, "bench");
        string[] categories = ["run", "hik", "yog", "cyc", "swi", "cam", "fit", "app"];
        var events = _services.GetRequiredService<EventService>();
        var random = new Random(5);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var v = 0; v < Visitors; v += 40)
        {
            var batch = new List<TrackedEvent>();
            for (var u = v; u < v + 40; u++)
            {
                for (var k = 0; k < 12; k++)
                {
                    var category = categories[(u + (k % 3 == 0 ? k : 0)) % 8];
                    batch.Add(new TrackedEvent
                    {
                        EventId = $"e-{u}-{k}", Type = EventType.ProductView, VisitorId = $"v-{u}",
                        ItemId = $"sku-{category}-{random.Next(1, 41):D3}", Timestamp = now - ((12 - k) * 60_000),
                    });
                }
            }
            await events.IngestAsync(Site, [.. batch]);
        }
        await _services.GetRequiredService<ModelTraining>().TrainAsync(Site);
        _engine = _services.GetRequiredService<DecisionEngine>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var h in _hosted.AsEnumerable().Reverse())
        {
            h.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        _services.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    private Task<Decision> Decide(params string[] slots) =>
        _engine.DecideAsync(Site, new DecisionRequest { VisitorId = $"v-{_next++ % Visitors}", Slots = slots });

    [Benchmark(Description = "decide: the demo's four slots")]
    public Task<Decision> FourSlots() => Decide("home-hero", "home-recs", "pdp-similar", "cart-offer");

    [Benchmark(Description = "decide: a content slot (rules, information-driven, default)")]
    public Task<Decision> Content() => Decide("home-hero");

    [Benchmark(Description = "decide: personalized (fold-in over the history, score 320 items)")]
    public Task<Decision> Personalized() => Decide("home-recs");

    [Benchmark(Description = "decide: similar items")]
    public Task<Decision> Similar() => Decide("pdp-similar");

    [Benchmark(Description = "decide: trending")]
    public Task<Decision> Trending() => Decide("trending-recs");

    [Benchmark(Description = "decide: recently viewed")]
    public Task<Decision> RecentlyViewed() => Decide("viewed-recs");
}

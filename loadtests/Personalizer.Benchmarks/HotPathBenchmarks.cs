using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MessagePack;
using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Benchmarks;

/// <summary>
/// The hot paths of events and decide: folding an event, the profile's MessagePack round trip,
/// FASTER reads and read-modify-writes, and top-K scoring over 10,000 item factors.
/// <c>dotnet run -c Release --project loadtests/Personalizer.Benchmarks -- --filter '*HotPath*'</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class HotPathBenchmarks
{
    private const int Profiles = 100_000;
    private const int Items = 10_000;
    private const int Factors = 64;

    private readonly FoldSettings _fold = new();
    private CatalogSnapshot _catalog = null!;
    private VisitorProfile _profile = null!;
    private byte[] _bytes = [];
    private TrackedEvent _view = null!;
    private FasterProfileStore _store = null!;
    private string _folder = "";
    private float[] _itemFactors = [];
    private float[] _user = [];
    private float[] _scores = [];
    private readonly int[] _top = new int[30];
    private int _next;

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(8));
    }

    [GlobalSetup]
    public void Setup()
    {
        _catalog = new CatalogSnapshot(Enumerable.Range(0, Items).Select(i => new CatalogItem { Id = $"item-{i}", Title = "x", Categories = [$"cat{i % 20}"] }));
        _profile = new VisitorProfile { VisitorId = "v-1" };
        var t = 1_700_000_000_000L;
        for (var i = 0; i < 30; i++)
        {
            ProfileFolder.Fold(_profile, new TrackedEvent { EventId = $"e{i}", Type = EventType.ProductView, VisitorId = "v-1", ItemId = $"item-{i * 37}", Timestamp = t + i * 60_000 }, _catalog, _fold);
        }
        ProfileFolder.Fold(_profile, new TrackedEvent { EventId = "c", Type = EventType.AddToCart, VisitorId = "v-1", ItemId = "item-5", Quantity = 1, Price = 10, Timestamp = t }, _catalog, _fold);
        _bytes = MessagePackSerializer.Serialize(_profile);
        _view = new TrackedEvent { EventId = "x", Type = EventType.ProductView, VisitorId = "v-1", ItemId = "item-77", Timestamp = t + 10_000_000 };

        _folder = Path.Combine(Path.GetTempPath(), "p13n-bench-" + Guid.NewGuid().ToString("N"));
        _store = new FasterProfileStore(_folder, new FasterOptions { MemoryMb = 256, IndexMb = 16 }, NullLogger.Instance);
        for (var i = 0; i < Profiles; i++)
        {
            _profile.VisitorId = $"v-{i}";
            _store.PutAsync("bench", _profile).AsTask().GetAwaiter().GetResult();
        }

        var random = new Random(1);
        _itemFactors = [.. Enumerable.Range(0, Items * Factors).Select(_ => (float)random.NextDouble() - 0.5f)];
        _user = [.. Enumerable.Range(0, Factors).Select(_ => (float)random.NextDouble() - 0.5f)];
        _scores = new float[Items];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Description = "fold a product view into a profile")]
    public VisitorProfile Fold()
    {
        var p = MessagePackSerializer.Deserialize<VisitorProfile>(_bytes);
        ProfileFolder.Fold(p, _view, _catalog, _fold);
        return p;
    }

    [Benchmark(Description = "profile MessagePack round trip")]
    public VisitorProfile RoundTrip() => MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(_profile));

    [Benchmark(Description = "FASTER read of a profile (100k stored)")]
    public VisitorProfile? Read() => _store.GetAsync("bench", $"v-{_next++ % Profiles}").AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "FASTER read-modify-write (read, fold, upsert)")]
    public void ReadModifyWrite()
    {
        var p = _store.GetAsync("bench", $"v-{_next++ % Profiles}").AsTask().GetAwaiter().GetResult()!;
        ProfileFolder.Fold(p, _view, _catalog, _fold);
        _store.PutAsync("bench", p).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "score 10,000 items (64 factors) and select the top 30")]
    public int TopK()
    {
        for (var i = 0; i < Items; i++)
        {
            _scores[i] = TensorPrimitives.Dot(_user, _itemFactors.AsSpan(i * Factors, Factors));
        }
        return Personalizer.Engine.Recommendations.TopK.Select(_scores, _top);
    }
}

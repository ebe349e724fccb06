using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Benchmarks;

/// <summary>
/// The personalized list's arithmetic for a 10,000-item, 64-factor model and a visitor with 6 items of
/// history: the dense fold-in and exact scoring the served path used before, against the eigenbasis
/// fold-in, the 8-bit scores and the ranking that re-scores their best candidates exactly.
/// <c>dotnet run -c Release --project loadtests/Personalizer.Benchmarks -- --filter '*Scoring*'</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ScoringBenchmarks
{
    private const int Items = 10_000;
    private const int Factors = 64;
    private RecommendationModel _model = null!;
    private VisitorProfile _profile = null!;
    private readonly InteractionWeights _weights = new();
    private readonly float[] _user = new float[Factors];
    private readonly float[] _scores = new float[Items];
    private readonly int[] _top = new int[42];
    private int[] _history = [];
    private float[] _historyWeights = [];
    private ImplicitAls _als = null!;

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(8));
    }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var factors = new float[Items * Factors];
        for (var i = 0; i < factors.Length; i++)
        {
            factors[i] = (float)(random.NextDouble() - 0.5) * 0.3f;
        }
        _als = new ImplicitAls(new AlsOptions(Factors, 0.3f, 0.4f, WeightedRegularization: true));
        _model = new RecommendationModel
        {
            Site = "bench", Factors = Factors, Regularization = 0.3f, Alpha = 0.4f, WeightedRegularization = true,
            ItemIds = [.. Enumerable.Range(0, Items).Select(i => $"item-{i}")], ItemFactors = factors, Gram = _als.Gram(factors),
        };
        _ = _model.Serving;
        _profile = new VisitorProfile { VisitorId = "v" };
        for (var k = 0; k < 6; k++)
        {
            ProfileFolder.Fold(_profile, new TrackedEvent { EventId = $"e{k}", Type = EventType.ProductView, VisitorId = "v", ItemId = $"item-{k * 997}", Timestamp = 1_700_000_000_000 + k }, Engine.Catalog.CatalogSnapshot.Empty, new FoldSettings());
        }
        _history = new int[PersonalizedScoring.Capacity(_profile)];
        _historyWeights = new float[_history.Length];
        PersonalizedScoring.History(_model, _profile, _weights, _history, _historyWeights);
        PersonalizedScoring.UserVector(_model, _profile, _weights, _user);
        _model.Serving.ScoreApproximate(_user, _scores);
    }

    private readonly int[] _candidates = new int[Items];

    [Benchmark(Description = "candidates: at least 116 of 10,000 scores by block maxima")]
    public int Candidates() => TopK.AtLeast(_scores, 116, _candidates);

    [Benchmark(Description = "rank (8-bit scores, candidates, exact re-rank) for a given user vector")]
    public int RankOnly() => PersonalizedScoring.Rank(_model, _profile, _user, excludePurchased: true, new float[Items], _top);

    [Benchmark(Description = "select the top 42 of 10,000 scores")]
    public int Select() => TopK.Select(_scores, _top);

    [Benchmark(Baseline = true, Description = "dense fold-in (CG, f steps), exact scores, top 42")]
    public int DenseExact()
    {
        Span<float> user = stackalloc float[Factors];
        _als.FoldIn(_history, _historyWeights, _model.ItemFactors, _model.Gram, user);
        var scores = new float[Items];
        for (var i = 0; i < Items; i++)
        {
            scores[i] = TensorPrimitives.Dot(user, _model.ItemFactors.AsSpan(i * Factors, Factors));
        }
        return TopK.Select(scores, _top);
    }

    [Benchmark(Description = "dense fold-in alone")]
    public float DenseFoldIn()
    {
        var user = new float[Factors];
        _als.FoldIn(_history, _historyWeights, _model.ItemFactors, _model.Gram, user);
        return user[0];
    }

    [Benchmark(Description = "eigenbasis fold-in alone")]
    public float EigenFoldIn()
    {
        Span<float> user = stackalloc float[Factors];
        PersonalizedScoring.UserVector(_model, _profile, _weights, user);
        return user[0];
    }

    [Benchmark(Description = "exact scores of 10,000 items")]
    public float ExactScores()
    {
        var scores = new float[Items];
        _model.Serving.ScoreAll(_user, scores);
        return scores[0];
    }

    [Benchmark(Description = "8-bit scores of 10,000 items")]
    public float ApproximateScores()
    {
        var scores = new float[Items];
        _model.Serving.ScoreApproximate(_user, scores);
        return scores[0];
    }

    [Benchmark(Description = "served: eigenbasis fold-in, 8-bit scores, exact re-rank, top 42")]
    public int Served()
    {
        Span<float> user = stackalloc float[Factors];
        PersonalizedScoring.UserVector(_model, _profile, _weights, user);
        var scores = new float[Items];
        return PersonalizedScoring.Rank(_model, _profile, user, excludePurchased: true, scores, _top);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// Trains a site's model from its whole history (the archive and the log's tail): views, clicks, cart additions and purchases
/// become implicit feedback (erased visitors are left out), orders give bought-together lifts.
/// </summary>
public sealed class ModelTrainer(EventHistory? history, RecommendationOptions options, TimeProvider time)
{
    /// <summary>A trainer for given events only (<see cref="TrainOn"/>), on the system clock.</summary>
    public ModelTrainer(RecommendationOptions options)
        : this(null, options, TimeProvider.System)
    {
    }

    public RecommendationModel? Train(string site, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        var (events, lastSeq) = Read(site, ct);
        return Build(site, Collect(events, lastSeq), started, evaluate: true, ct);
    }

    /// <summary>
    /// Trains on the given events exactly as on a site's history (the same weights, options and
    /// seed), without the hold-out figures: what the served evaluation measures.
    /// </summary>
    public RecommendationModel? TrainOn(string site, IEnumerable<TrackedEvent> events, CancellationToken ct = default) =>
        Build(site, Collect(events, 0), Stopwatch.GetTimestamp(), evaluate: false, ct);

    private RecommendationModel? Build(string site, Collected data, long started, bool evaluate, CancellationToken ct)
    {
        if (data.Triples.Count == 0)
        {
            return null;
        }
        var interactions = Interactions.From(data.Users.Count, data.Items.Count, data.Triples);
        var alsOptions = new AlsOptions(options.Factors, options.Regularization, options.Alpha, options.Iterations, Seed: options.Seed, WeightedRegularization: options.WeightedRegularization);
        var als = new ImplicitAls(alsOptions);
        var (_, items) = als.Train(interactions, ct: ct);
        var gram = als.Gram(items);
        var itemIds = new string[data.Items.Count];
        foreach (var (id, i) in data.Items)
        {
            itemIds[i] = id;
        }
        var (similar, similarScores) = Neighbours(items, options.Factors, options.SimilarItems);
        var (together, lifts) = BoughtTogether(data.Orders, itemIds.Length);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var evaluation = evaluate ? Evaluate(data, alsOptions) : [];
        var now = time.GetUtcNow();
        return new RecommendationModel
        {
            Site = site,
            Version = now.ToString("yyyy-MM-dd'T'HH-mm-ss'Z'", CultureInfo.InvariantCulture),
            CreatedAt = now.ToUnixTimeMilliseconds(),
            Factors = options.Factors,
            Regularization = options.Regularization,
            WeightedRegularization = options.WeightedRegularization,
            Alpha = options.Alpha,
            ItemIds = itemIds,
            ItemFactors = items,
            Gram = gram,
            Similar = similar,
            SimilarScores = similarScores,
            BoughtTogether = together,
            BoughtTogetherLift = lifts,
            Evaluation = evaluation,
            Users = data.Users.Count,
            Interactions = interactions.Count,
            TrainingSeconds = Math.Round(seconds, 3),
            LastSeq = data.LastSeq,
        };
    }

    private sealed class Collected
    {
        public Dictionary<string, int> Users { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, int> Items { get; } = new(StringComparer.Ordinal);
        public List<(int User, int Item, float Weight)> Triples { get; } = [];
        public List<int[]> Orders { get; } = [];
        public long LastSeq { get; set; }
    }

    private (List<TrackedEvent> Events, long LastSeq) Read(string site, CancellationToken ct)
    {
        var events = new List<TrackedEvent>();
        var erased = new HashSet<string>(StringComparer.Ordinal);
        long lastSeq = 0;
        foreach (var (seq, record) in (history ?? throw new InvalidOperationException("This trainer has no history to read.")).Read(site, ct))
        {
            lastSeq = Math.Max(lastSeq, seq);
            if (record is EventBatchRecord batch)
            {
                events.AddRange(batch.Events);
            }
            else if (record is EraseProfileRecord erase)
            {
                erased.Add(erase.VisitorId);
            }
        }
        // Erasure reaches training too.
        events.RemoveAll(e => erased.Contains(e.VisitorId));
        return (events, lastSeq);
    }

    private Collected Collect(IEnumerable<TrackedEvent> events, long lastSeq)
    {
        var w = options.Weights;
        var data = new Collected { LastSeq = lastSeq };
        int User(string id) => data.Users.TryGetValue(id, out var u) ? u : data.Users[id] = data.Users.Count;
        int Item(string id) => data.Items.TryGetValue(id, out var i) ? i : data.Items[id] = data.Items.Count;
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case EventType.ProductView:
                    data.Triples.Add((User(e.VisitorId), Item(e.ItemId!), w.View));
                    break;
                case EventType.SlotClick when e.ItemId is not null:
                    data.Triples.Add((User(e.VisitorId), Item(e.ItemId), w.Click));
                    break;
                case EventType.AddToCart:
                    data.Triples.Add((User(e.VisitorId), Item(e.ItemId!), w.AddToCart));
                    break;
                case EventType.Purchase when e.Lines is { Length: > 0 }:
                    var order = new int[e.Lines.Length];
                    for (var k = 0; k < order.Length; k++)
                    {
                        order[k] = Item(e.Lines[k].ItemId);
                        data.Triples.Add((User(e.VisitorId), order[k], w.Purchase));
                    }
                    data.Orders.Add(order);
                    break;
            }
        }
        return data;
    }

    /// <summary>Users the hold-out run samples at most: scoring every user against every item would cost more than training.</summary>
    public const int EvaluationUsers = 5000;

    /// <summary>Figures of a held-out run on a seeded sample of visitors: 20% of each one's items hidden, precision and NDCG at 10.</summary>
    private static Dictionary<string, double> Evaluate(Collected data, AlsOptions alsOptions)
    {
        if (data.Users.Count < 10)
        {
            return new() { ["users"] = data.Users.Count };
        }
        var userIds = data.Users.ToDictionary(kv => kv.Value, kv => kv.Key);
        var itemIds = data.Items.ToDictionary(kv => kv.Value, kv => kv.Key);
        var keep = data.Users.Count <= EvaluationUsers
            ? null
            : new HashSet<int>(Enumerable.Range(0, data.Users.Count).Where(u => unchecked((uint)u * 2654435761u) % (uint)(data.Users.Count / EvaluationUsers + 1) == 0));
        var ratings = data.Triples.Where(t => keep is null || keep.Contains(t.User)).Select(t => new Rating(userIds[t.User], itemIds[t.Item], t.Weight, 0)).ToList();
        var evaluation = new OfflineEvaluation(ratings, 0.2, alsOptions.Seed, 10);
        var als = evaluation.Als(alsOptions);
        var popularity = evaluation.Popularity();
        return new()
        {
            ["precision@10"] = Math.Round(als.Precision, 4),
            ["ndcg@10"] = Math.Round(als.Ndcg, 4),
            ["popularity.precision@10"] = Math.Round(popularity.Precision, 4),
            ["users"] = evaluation.UserCount,
        };
    }

    private static (int[][] Items, float[][] Scores) Neighbours(float[] factors, int f, int keep)
    {
        var n = factors.Length / f;
        var norms = new float[n];
        for (var i = 0; i < n; i++)
        {
            norms[i] = Math.Max(1e-12f, TensorPrimitives.Norm(factors.AsSpan(i * f, f)));
        }
        var items = new int[n][];
        var scores = new float[n][];
        var k = Math.Min(keep, Math.Max(0, n - 1));
        Parallel.For(0, n, () => new float[n], (i, _, sims) =>
        {
            var row = factors.AsSpan(i * f, f);
            for (var j = 0; j < n; j++)
            {
                sims[j] = j == i ? float.NegativeInfinity : TensorPrimitives.Dot(row, factors.AsSpan(j * f, f)) / (norms[i] * norms[j]);
            }
            var top = new int[k];
            var count = TopK.Select(sims, top);
            items[i] = top[..count];
            scores[i] = [.. items[i].Select(j => sims[j])];
            return sims;
        }, static _ => { });
        return (items, scores);
    }

    private static (int[][] Items, float[][] Lifts) BoughtTogether(List<int[]> orders, int itemCount)
    {
        var single = new int[itemCount];
        var pairs = new Dictionary<long, int>();
        foreach (var order in orders)
        {
            var distinct = order.Distinct().ToArray();
            foreach (var a in distinct)
            {
                single[a]++;
                foreach (var b in distinct)
                {
                    if (a != b)
                    {
                        var key = ((long)a << 32) | (uint)b;
                        pairs[key] = pairs.GetValueOrDefault(key) + 1;
                    }
                }
            }
        }
        var byItem = new List<(int Item, float Lift)>[itemCount];
        foreach (var (key, count) in pairs)
        {
            var a = (int)(key >> 32);
            var b = (int)(key & 0xffffffff);
            var lift = count * (float)orders.Count / (single[a] * (float)single[b]);
            (byItem[a] ??= []).Add((b, lift));
        }
        var items = new int[itemCount][];
        var lifts = new float[itemCount][];
        for (var i = 0; i < itemCount; i++)
        {
            var list = byItem[i]?.OrderByDescending(x => x.Lift).ThenBy(x => x.Item).Take(20).ToArray() ?? [];
            items[i] = [.. list.Select(x => x.Item)];
            lifts[i] = [.. list.Select(x => x.Lift)];
        }
        return (items, lifts);
    }
}

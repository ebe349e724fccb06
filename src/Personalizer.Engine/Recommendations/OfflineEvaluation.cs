using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;

namespace Personalizer.Engine.Recommendations;

public readonly record struct Rating(string User, string Item, float Value, long Timestamp);

/// <summary>The metrics of one model on a held-out split.</summary>
public sealed record EvaluationResult(string Model, int K, double Precision, double Recall, double Ndcg, double Map, double Coverage, double TrainingSeconds, int Users)
{
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        [$"precision@{K}"] = Math.Round(Precision, 4),
        [$"recall@{K}"] = Math.Round(Recall, 4),
        [$"ndcg@{K}"] = Math.Round(Ndcg, 4),
        [$"map@{K}"] = Math.Round(Map, 4),
        ["coverage"] = Math.Round(Coverage, 4),
        ["trainingSeconds"] = Math.Round(TrainingSeconds, 3),
        ["users"] = Users,
    };
}

/// <summary>
/// The protocol of Microsoft Recommenders' public MovieLens tables: every (kept) rating is an
/// interaction; each user's interactions are split at random (seeded) into train and test; models
/// rank every item the user has not interacted with in train; precision, recall, NDCG (binary
/// relevance, ideal DCG over min(k, test items)) and MAP at k, averaged over users with test items.
/// </summary>
public sealed class OfflineEvaluation
{
    private readonly Interactions _train;
    private readonly HashSet<int>[] _test;
    private readonly int _k;

    /// <summary>The list length measured (top k).</summary>
    public int K => _k;

    public OfflineEvaluation(IReadOnlyList<Rating> ratings, double testFraction, int seed, int k)
    {
        _k = k;
        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new Dictionary<string, int>(StringComparer.Ordinal);
        var byUser = new List<List<int>>();
        var first = new Dictionary<(int, int), long>();
        foreach (var r in ratings)
        {
            if (!users.TryGetValue(r.User, out var u))
            {
                users[r.User] = u = users.Count;
                byUser.Add([]);
            }
            if (!items.TryGetValue(r.Item, out var i))
            {
                items[r.Item] = i = items.Count;
            }
            byUser[u].Add(i);
            first.TryAdd((u, i), r.Timestamp);
        }
        var random = new Random(seed);
        var train = new List<(int, int, float)>();
        _test = new HashSet<int>[users.Count];
        for (var u = 0; u < byUser.Count; u++)
        {
            var list = byUser[u].Distinct().ToArray();
            random.Shuffle(list);
            var testCount = (int)Math.Round(list.Length * testFraction, MidpointRounding.AwayFromZero);
            if (list.Length - testCount < 1)
            {
                testCount = list.Length - 1;
            }
            _test[u] = [.. list.Take(testCount)];
            foreach (var i in list.Skip(testCount))
            {
                train.Add((u, i, 1f));
                TrainPairs.Add((u, i, first[(u, i)]));
            }
        }
        _train = Interactions.From(users.Count, items.Count, train);
        UserIds = new string[users.Count];
        foreach (var (id, u) in users)
        {
            UserIds[u] = id;
        }
        ItemIds = new string[items.Count];
        foreach (var (id, i) in items)
        {
            ItemIds[i] = id;
        }
        ItemCount = items.Count;
        UserCount = users.Count;
        TrainCount = _train.Count;
    }

    /// <summary>The training part as (user, item, timestamp of the user's first rating of it), in split order.</summary>
    public List<(int User, int Item, long Timestamp)> TrainPairs { get; } = [];
    public string[] UserIds { get; }
    public string[] ItemIds { get; }
    /// <summary>The held-out items of a user.</summary>
    public IReadOnlySet<int> TestOf(int user) => _test[user];

    public int ItemCount { get; }
    public int UserCount { get; }
    public int TrainCount { get; }
    public Interactions Train => _train;

    public EvaluationResult Popularity()
    {
        var watch = Stopwatch.StartNew();
        var counts = new float[ItemCount];
        foreach (var i in _train.Columns)
        {
            counts[i]++;
        }
        var seconds = watch.Elapsed.TotalSeconds;
        return Evaluate("popularity", seconds, (_, scores) => counts.CopyTo(scores, 0));
    }

    /// <summary>Item-based k-nearest neighbours: cosine similarity of item columns, each item's 100 nearest, summed over the user's items.</summary>
    public EvaluationResult ItemKnn(int neighbours = 100)
    {
        var watch = Stopwatch.StartNew();
        var itemUsers = _train.Transpose();
        var norms = new float[ItemCount];
        for (var i = 0; i < ItemCount; i++)
        {
            norms[i] = MathF.Sqrt(itemUsers.RowStart[i + 1] - itemUsers.RowStart[i]);
        }
        var similar = new (int Item, float Sim)[ItemCount][];
        Parallel.For(0, ItemCount, () => new float[ItemCount], (i, _, co) =>
        {
            Array.Clear(co);
            foreach (var u in itemUsers.ItemsOf(i))
            {
                foreach (var j in _train.ItemsOf(u))
                {
                    co[j]++;
                }
            }
            co[i] = 0;
            var list = new List<(int, float)>();
            for (var j = 0; j < ItemCount; j++)
            {
                if (co[j] > 0)
                {
                    list.Add((j, co[j] / (norms[i] * norms[j])));
                }
            }
            similar[i] = [.. list.OrderByDescending(x => x.Item2).Take(neighbours)];
            return co;
        }, static _ => { });
        var seconds = watch.Elapsed.TotalSeconds;
        return Evaluate("itemknn", seconds, (u, scores) =>
        {
            foreach (var j in _train.ItemsOf(u))
            {
                foreach (var (i, sim) in similar[j])
                {
                    scores[i] += sim;
                }
            }
        });
    }

    public EvaluationResult Als(AlsOptions options)
    {
        var watch = Stopwatch.StartNew();
        var als = new ImplicitAls(options);
        var (users, items) = als.Train(_train);
        var seconds = watch.Elapsed.TotalSeconds;
        var f = options.Factors;
        return Evaluate("als", seconds, (u, scores) =>
        {
            var x = users.AsSpan(u * f, f);
            for (var i = 0; i < ItemCount; i++)
            {
                scores[i] = TensorPrimitives.Dot(x, items.AsSpan(i * f, f));
            }
        });
    }

    internal EvaluationResult Evaluate(string model, double trainingSeconds, Action<int, float[]> score)
    {
        var scores = new float[ItemCount];
        var top = new int[_k];
        var lists = new int[UserCount][];
        for (var u = 0; u < UserCount; u++)
        {
            if (_test[u].Count == 0)
            {
                continue;
            }
            Array.Clear(scores);
            score(u, scores);
            foreach (var i in _train.ItemsOf(u))
            {
                scores[i] = float.NegativeInfinity; // training items are never candidates
            }
            lists[u] = top[..TopK.Select(scores, top)];
        }
        return EvaluateLists(model, lists, trainingSeconds);
    }

    /// <summary>
    /// The metrics of given top lists, one per user (item indexes of this split, best first; −1 for
    /// an item the split does not know; null for a user not asked).
    /// </summary>
    public EvaluationResult EvaluateLists(string model, int[]?[] lists, double trainingSeconds = 0)
    {
        double precision = 0, recall = 0, ndcg = 0, map = 0;
        var evaluated = 0;
        var recommended = new bool[ItemCount];
        for (var u = 0; u < UserCount; u++)
        {
            var test = _test[u];
            if (test.Count == 0 || lists[u] is not { } list)
            {
                continue;
            }
            int hits = 0;
            double dcg = 0, ap = 0;
            for (var rank = 0; rank < Math.Min(_k, list.Length); rank++)
            {
                var item = list[rank];
                if (item < 0)
                {
                    continue;
                }
                recommended[item] = true;
                if (test.Contains(item))
                {
                    hits++;
                    dcg += 1 / Math.Log2(rank + 2);
                    ap += hits / (double)(rank + 1);
                }
            }
            double idcg = 0;
            for (var rank = 0; rank < Math.Min(_k, test.Count); rank++)
            {
                idcg += 1 / Math.Log2(rank + 2);
            }
            precision += hits / (double)_k;
            recall += hits / (double)test.Count;
            ndcg += dcg / idcg;
            map += ap / Math.Min(_k, test.Count);
            evaluated++;
        }
        if (evaluated == 0)
        {
            // No user kept a test item (a tiny test fraction): nothing to average.
            return new EvaluationResult(model, _k, 0, 0, 0, 0, 0, trainingSeconds, 0);
        }
        return new EvaluationResult(model, _k, precision / evaluated, recall / evaluated, ndcg / evaluated, map / evaluated,
            recommended.Count(b => b) / (double)ItemCount, trainingSeconds, evaluated);
    }

    /// <summary>
    /// Reads an event export (JSON lines, as <c>events export</c> writes them): product views, clicks,
    /// cart additions and purchase lines become interactions weighted like training weighs them.
    /// </summary>
    public static List<Rating> ReadEvents(string path, InteractionWeights weights)
    {
        var ratings = new List<Rating>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var e = doc.RootElement;
            var visitor = e.GetProperty("visitorId").GetString() ?? throw new FormatException($"'{path}' line {number}: no visitorId");
            var type = e.GetProperty("type").GetString();
            string? Item() => e.TryGetProperty("itemId", out var i) ? i.GetString() : null;
            switch (type)
            {
                case Events.EventTypes.ProductView when Item() is { } item:
                    ratings.Add(new Rating(visitor, item, weights.View, 0));
                    break;
                case Events.EventTypes.SlotClick when Item() is { } item:
                    ratings.Add(new Rating(visitor, item, weights.Click, 0));
                    break;
                case Events.EventTypes.AddToCart when Item() is { } item:
                    ratings.Add(new Rating(visitor, item, weights.AddToCart, 0));
                    break;
                case Events.EventTypes.Purchase when e.TryGetProperty("lines", out var lines):
                    foreach (var l in lines.EnumerateArray())
                    {
                        ratings.Add(new Rating(visitor, l.GetProperty("itemId").GetString()!, weights.Purchase, 0));
                    }
                    break;
            }
        }
        return ratings;
    }

    /// <summary>Reads <c>u.data</c> (tab), <c>ratings.dat</c> (<c>::</c>) or <c>ratings.csv</c> (with a header).</summary>
    public static List<Rating> ReadRatings(string path, float minRating = 0)
    {
        var ratings = new List<Rating>();
        var first = true;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }
            string[] parts = line.Contains("::", StringComparison.Ordinal) ? line.Split("::")
                : line.Contains('\t', StringComparison.Ordinal) ? line.Split('\t')
                : line.Split(',');
            if (first && !double.TryParse(parts[^2], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                first = false;
                continue; // a header
            }
            first = false;
            if (parts.Length < 3 || !float.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                throw new FormatException($"'{path}': expected user, item, rating[, timestamp], found '{line}'");
            }
            if (value < minRating)
            {
                continue;
            }
            long.TryParse(parts.Length > 3 ? parts[3] : "0", NumberStyles.Integer, CultureInfo.InvariantCulture, out var ts);
            ratings.Add(new Rating(parts[0], parts[1], value, ts));
        }
        return ratings;
    }
}

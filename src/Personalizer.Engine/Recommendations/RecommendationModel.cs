using System.Collections.Frozen;
using MessagePack;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// One trained model of one site, immutable once published: item factors and their Gram matrix
/// (for request-time fold-in), each item's nearest neighbours, bought-together lists and the
/// evaluation figures of the run that made it.
/// </summary>
[MessagePackObject]
public sealed class RecommendationModel
{
    private FrozenDictionary<string, int>? _index;
    private ServingIndex? _serving;
    private string? _source;
    private CatalogItems? _catalogItems;

    [Key(0)] public string Site { get; init; } = "";
    [Key(1)] public string Version { get; init; } = "";
    [Key(2)] public long CreatedAt { get; init; }
    [Key(3)] public int Factors { get; init; }
    [Key(4)] public float Regularization { get; init; }
    [Key(5)] public float Alpha { get; init; }
    [Key(6)] public string[] ItemIds { get; init; } = [];
    [Key(7)] public float[] ItemFactors { get; init; } = [];
    [Key(8)] public float[] Gram { get; init; } = [];
    /// <summary>Per item: neighbour indexes by cosine over item factors, nearest first.</summary>
    [Key(9)] public int[][] Similar { get; init; } = [];
    [Key(10)] public float[][] SimilarScores { get; init; } = [];
    /// <summary>Per item: items bought in the same orders, by lift.</summary>
    [Key(11)] public int[][] BoughtTogether { get; init; } = [];
    [Key(12)] public float[][] BoughtTogetherLift { get; init; } = [];
    [Key(13)] public Dictionary<string, double> Evaluation { get; init; } = [];
    [Key(14)] public int Users { get; init; }
    [Key(15)] public int Interactions { get; init; }
    [Key(16)] public double TrainingSeconds { get; init; }
    /// <summary>The log sequence up to which events were used.</summary>
    [Key(17)] public long LastSeq { get; init; }
    /// <summary>Whether λ was weighed by interaction counts (ALS-WR); fold-in must do the same.</summary>
    [Key(18)] public bool WeightedRegularization { get; init; }

    [IgnoreMember]
    public FrozenDictionary<string, int> ItemIndex => _index ??= ItemIds.Select((id, i) => (id, i)).ToFrozenDictionary(x => x.id, x => x.i, StringComparer.Ordinal);

    /// <summary>The request path's form of the factors (eigenbasis, 8-bit copy), built on first use; the registry builds it before publishing.</summary>
    [IgnoreMember]
    public ServingIndex Serving => _serving ??= ServingIndex.Build(this);

    [IgnoreMember] public string Source => _source ??= "recs:" + Version;

    /// <summary>
    /// The catalogue item of each model item (by model index; null where the catalogue has none), for one catalogue
    /// snapshot: rankings carry their items without a lookup by id per candidate. Rebuilt when the snapshot changes.
    /// </summary>
    public Catalog.CatalogItem?[] ItemsIn(Catalog.CatalogSnapshot snapshot)
    {
        var kept = Volatile.Read(ref _catalogItems);
        if (kept is not null && ReferenceEquals(kept.Snapshot, snapshot))
        {
            return kept.Items;
        }
        var items = new Catalog.CatalogItem?[ItemIds.Length];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = snapshot.Find(ItemIds[i]);
        }
        Volatile.Write(ref _catalogItems, new CatalogItems(snapshot, items));
        return items;
    }

    private sealed record CatalogItems(Catalog.CatalogSnapshot Snapshot, Catalog.CatalogItem?[] Items);
}

/// <summary>How much each event type says about a visitor's taste, as implicit-feedback weight.</summary>
public sealed class InteractionWeights
{
    public float View { get; set; } = 1;
    public float Click { get; set; } = 1;
    public float AddToCart { get; set; } = 3;
    public float Purchase { get; set; } = 5;
}

public sealed class RecommendationOptions
{
    // Chosen by `recs tune` on MovieLens-100K on a validation split cut from the training part
    // (docs/recommendations.md), with interactions weighted as purchases.
    public int Factors { get; set; } = 32;
    /// <summary>λ per interaction (ALS-WR): each user's and item's λ is this times its interaction count.</summary>
    public float Regularization { get; set; } = 0.3f;
    public float Alpha { get; set; } = 0.4f;
    public bool WeightedRegularization { get; set; } = true;
    public int Iterations { get; set; } = 15;
    public int Seed { get; set; } = 42;
    /// <summary>Minutes between scheduled trainings of every site (0: only on demand).</summary>
    public int TrainIntervalMinutes { get; set; } = 60;
    /// <summary>Neighbours kept per item for "similar".</summary>
    public int SimilarItems { get; set; } = 20;
    public InteractionWeights Weights { get; set; } = new();
    /// <summary>Visitors whose last personalized ranking is kept (<see cref="RankingCache"/>); 0 keeps none.</summary>
    public int RankingCacheEntries { get; set; } = 16_384;
}

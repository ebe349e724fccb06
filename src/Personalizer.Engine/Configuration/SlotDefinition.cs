using System.Collections.Frozen;
using System.Text.Json;
using MessagePack;

namespace Personalizer.Engine.Configuration;

public enum SlotKind : byte
{
    Content = 1,
    Recommendations = 2,
}

public static class SlotKinds
{
    public const string Content = "content";
    public const string Recommendations = "recommendations";
}

/// <summary>Names of the recommendation strategies a slot may ask for.</summary>
public static class RecommendationStrategies
{
    public const string Trending = "trending";
    public const string Personalized = "personalized";
    public const string Similar = "similar";
    public const string RecentlyViewed = "recently_viewed";
    public const string BoughtTogether = "bought_together";

    public static readonly string[] All = [Trending, Personalized, Similar, RecentlyViewed, BoughtTogether];
}

/// <summary>A slot of a storefront page and how it is filled. Immutable once part of a configuration version.</summary>
[MessagePackObject]
public sealed class SlotDefinition
{
    [Key(0)] public string Id { get; init; } = "";
    [Key(1)] public SlotKind Kind { get; init; }
    [Key(2)] public string? DefaultVariant { get; init; }
    [Key(3)] public SlotVariant[] Variants { get; init; } = [];
    [Key(4)] public string Strategy { get; init; } = RecommendationStrategies.Trending;
    [Key(5)] public int Count { get; init; } = 10;
    [Key(6)] public RecommendationFilters Filters { get; init; } = new();
    [Key(7)] public string? Description { get; init; }
    /// <summary>This slot's own time budget within the decide's (null: the decide's); past it the slot falls back.</summary>
    [Key(8)] public int? BudgetMs { get; init; }
    /// <summary>
    /// Recommendation slots: the fallback chain, tried in order when the slot's chain times out or
    /// fails (<see cref="FallbackSteps"/>); empty: category_trending, then trending.
    /// </summary>
    [Key(9)] public string[] Fallbacks { get; init; } = [];

    public SlotVariant? FindVariant(string? id)
    {
        foreach (var v in Variants)
        {
            if (string.Equals(v.Id, id, StringComparison.Ordinal))
            {
                return v;
            }
        }
        return null;
    }

    [IgnoreMember] public SlotVariant? Default => FindVariant(DefaultVariant);

    /// <summary>This slot for one decide, with the page's own filters on top of its own (<see cref="RecommendationFilters.Page"/>).</summary>
    public SlotDefinition WithPageFilters(RecommendationFilters page) => Copy(Strategy, Filters with { Page = page });

    private FrozenDictionary<string, SlotVariant>? _byTag;

    /// <summary>The first variant carrying each tag (built once per slot version).</summary>
    [IgnoreMember]
    public FrozenDictionary<string, SlotVariant> VariantsByTag => _byTag ??= Variants
        .SelectMany(v => v.Tags.Select(t => (Tag: t, Variant: v)))
        .DistinctBy(x => x.Tag, StringComparer.Ordinal)
        .ToFrozenDictionary(x => x.Tag, x => x.Variant, StringComparer.Ordinal);

    /// <summary>The same slot filled by another recommendation strategy.</summary>
    public SlotDefinition WithStrategy(string strategy) => Copy(strategy, Filters);

    private SlotDefinition Copy(string strategy, RecommendationFilters filters) => new()
    {
        Id = Id,
        Kind = Kind,
        DefaultVariant = DefaultVariant,
        Variants = Variants,
        Strategy = strategy,
        Count = Count,
        Filters = filters,
        Description = Description,
        BudgetMs = BudgetMs,
        Fallbacks = Fallbacks,
    };
}

/// <summary>The steps of a recommendation slot's fallback chain; the last resort is always trending topped up from the catalogue.</summary>
public static class FallbackSteps
{
    /// <summary>Trending items of the visitor's top category, when they fill the slot.</summary>
    public const string CategoryTrending = "category_trending";
    /// <summary>The site's trending items, topped up from the catalogue: never empty.</summary>
    public const string Trending = "trending";
    /// <summary>A content slot's default variant.</summary>
    public const string Default = "default";

    public static readonly string[] All = [CategoryTrending, Trending];
    public static readonly string[] Standard = [CategoryTrending, Trending];
}

[MessagePackObject]
public sealed class SlotVariant
{
    private JsonDocument? _content;

    [Key(0)] public string Id { get; init; } = "";
    /// <summary>The variant's content, a JSON object, as UTF-8 text.</summary>
    [Key(1)] public string ContentJson { get; init; } = "{}";
    [Key(2)] public string[] Tags { get; init; } = [];

    /// <summary>
    /// Parsed once; a <see cref="JsonElement"/> over an immutable document is safe to share. The document is
    /// published by reference (a <c>JsonElement?</c> field could be read half-written by a concurrent first use).
    /// </summary>
    [IgnoreMember]
    public JsonElement Content => (Volatile.Read(ref _content) ?? Parse()).RootElement;

    private JsonDocument Parse()
    {
        var parsed = JsonDocument.Parse(ContentJson);
        if (Interlocked.CompareExchange(ref _content, parsed, null) is { } first)
        {
            parsed.Dispose(); // another thread published first: return this one's pooled buffer
            return first;
        }
        return parsed;
    }
}

[MessagePackObject]
public sealed record RecommendationFilters
{
    [Key(0)] public bool ExcludePurchased { get; init; } = true;
    [Key(1)] public bool ExcludeInCart { get; init; } = true;
    [Key(2)] public bool InStockOnly { get; init; } = true;
    [Key(3)] public string[] IncludeCategories { get; init; } = [];
    [Key(4)] public string[] ExcludeCategories { get; init; } = [];
    /// <summary>At most this many items of one (primary) category; 0 = no limit.</summary>
    [Key(5)] public int MaxPerCategory { get; init; }
    [Key(6)] public string[] IncludeBrands { get; init; } = [];
    [Key(7)] public string[] ExcludeBrands { get; init; } = [];
    /// <summary>Items carrying at least one of these tags (attributes).</summary>
    [Key(8)] public string[] IncludeTags { get; init; } = [];
    [Key(9)] public string[] ExcludeTags { get; init; } = [];
    /// <summary>Price range, inclusive; null = open.</summary>
    [Key(10)] public double? MinPrice { get; init; }
    [Key(11)] public double? MaxPrice { get; init; }
    /// <summary>Leave out what the visitor viewed recently (the profile's recently viewed list).</summary>
    [Key(12)] public bool ExcludeRecentlyViewed { get; init; }
    /// <summary>Attribute conditions, each <c>name:value</c>; an item must have every one (any of a list's values).</summary>
    [Key(13)] public string[] Attributes { get; init; } = [];

    /// <summary>A rule's item condition (<c>then.items</c>): only items it holds for. Set per decide, never stored.</summary>
    [IgnoreMember] public Rules.CompiledCondition? ItemCondition { get; init; }

    /// <summary>A rule's boost condition (<c>then.boostItems</c>): items it holds for come first, drawn from the whole catalogue.</summary>
    [IgnoreMember] public Rules.CompiledCondition? BoostItems { get; init; }

    /// <summary>
    /// The page's own filters for this slot in one decide (<c>filters</c> of the decide's body): every item must
    /// pass them as well as the slot's, so a page can narrow a slot but never widen what the merchandiser set.
    /// Set per decide, never stored.
    /// </summary>
    [IgnoreMember] public RecommendationFilters? Page { get; init; }

    /// <summary>Whether the filters keep only part of the catalogue, so that a ranking's top may not be enough.</summary>
    [IgnoreMember]
    public bool IsNarrowing => IncludeCategories.Length > 0 || IncludeBrands.Length > 0 || IncludeTags.Length > 0 || Attributes.Length > 0
        || MinPrice is not null || MaxPrice is not null || ItemCondition is not null || Page?.IsNarrowing == true;

    /// <summary>Whether purchased items are left out, by the slot or by the page.</summary>
    [IgnoreMember] public bool ExcludesPurchased => ExcludePurchased || Page?.ExcludePurchased == true;

    /// <summary>The tighter of the slot's and the page's limit per category (0: none).</summary>
    [IgnoreMember]
    public int PerCategoryLimit => Page is { MaxPerCategory: > 0 } page && (MaxPerCategory == 0 || page.MaxPerCategory < MaxPerCategory)
        ? page.MaxPerCategory
        : MaxPerCategory;

    /// <summary>
    /// A page's filters, as a page sends them: nothing is left out unless it asks (the defaults of a slot's
    /// filters leave purchased, in-cart and out-of-stock items out; the slot's own filters still do).
    /// </summary>
    public static RecommendationFilters ForPage() => new() { ExcludePurchased = false, ExcludeInCart = false, InStockOnly = false };
}

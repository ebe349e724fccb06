using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Catalog;

/// <summary>Single fields of one item; null leaves a field as it is.</summary>
[MessagePackObject]
public sealed class CatalogPatch
{
    [Key(0)] public string? Title { get; init; }
    [Key(1)] public double? Price { get; init; }
    [Key(2)] public bool? InStock { get; init; }
    [Key(3)] public string? Currency { get; init; }
    [Key(4)] public string[]? Categories { get; init; }
    [Key(5)] public string[]? Tags { get; init; }
    [Key(6)] public string? Brand { get; init; }
    [Key(7)] public string? Url { get; init; }
    [Key(8)] public string? ImageUrl { get; init; }
    /// <summary>The whole attributes object, replacing the item's (validated JSON).</summary>
    [Key(9)] public string? AttributesJson { get; init; }

    /// <summary>A new item: <paramref name="item"/> with these fields changed (snapshots are read concurrently, so never in place).</summary>
    public CatalogItem ApplyTo(CatalogItem item, long now) => new()
    {
        Id = item.Id,
        Title = Title ?? item.Title,
        Price = Price ?? item.Price,
        InStock = InStock ?? item.InStock,
        Currency = Currency ?? item.Currency,
        Categories = Categories ?? item.Categories,
        Tags = Tags ?? item.Tags,
        Brand = Brand ?? item.Brand,
        Url = Url ?? item.Url,
        ImageUrl = ImageUrl ?? item.ImageUrl,
        AttributesJson = AttributesJson ?? item.AttributesJson,
        UpdatedAt = now,
    };
}

/// <summary>
/// Changes of single items: a patch of some fields (applied to the item as it is when the record is
/// applied, so two patches of different fields both hold) or a deletion.
/// </summary>
[MessagePackObject]
public sealed class CatalogChangeRecord(string site, string itemId, CatalogPatch? patch, long at) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string ItemId { get; } = itemId;
    /// <summary>Null: the item is deleted.</summary>
    [Key(2)] public CatalogPatch? Patch { get; } = patch;
    [Key(3)] public long At { get; } = at;
    [IgnoreMember] public override string Site => SiteId;
}

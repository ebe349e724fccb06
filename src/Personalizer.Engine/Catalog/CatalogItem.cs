using MessagePack;

namespace Personalizer.Engine.Catalog;

[MessagePackObject]
public sealed class CatalogItem
{
    [Key(0)] public string Id { get; set; } = "";
    [Key(1)] public string Title { get; set; } = "";
    [Key(2)] public string[] Categories { get; set; } = [];
    [Key(3)] public double Price { get; set; }
    [Key(4)] public string? Currency { get; set; }
    [Key(5)] public bool InStock { get; set; } = true;
    [Key(6)] public string[] Tags { get; set; } = [];
    [Key(7)] public string? Url { get; set; }
    [Key(8)] public string? ImageUrl { get; set; }
    /// <summary>Unix milliseconds of the last upsert.</summary>
    [Key(9)] public long UpdatedAt { get; set; }
    [Key(10)] public string? Brand { get; set; }

    /// <summary>The first category, used where one category stands for the item (affinity, diversity).</summary>
    [IgnoreMember] public string? PrimaryCategory => Categories.Length > 0 ? Categories[0] : null;
}

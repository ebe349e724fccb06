using System.Collections.Frozen;
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
    /// <summary>
    /// The shop's own attributes as a JSON object (name → string, number, bool or a list of strings and
    /// numbers), validated on the way in.
    /// </summary>
    [Key(11)] public string? AttributesJson { get; set; }

    private System.Collections.Frozen.FrozenDictionary<string, string[]>? _attributes;

    /// <summary>Each attribute's values as text (numbers in invariant form, bools as true/false), for filters.</summary>
    [IgnoreMember]
    public System.Collections.Frozen.FrozenDictionary<string, string[]> AttributeValues => _attributes ??= ParseAttributes(AttributesJson);

    private static System.Collections.Frozen.FrozenDictionary<string, string[]> ParseAttributes(string? json)
    {
        if (json is null)
        {
            return System.Collections.Frozen.FrozenDictionary<string, string[]>.Empty;
        }
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var values = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            values[p.Name] = p.Value.ValueKind == System.Text.Json.JsonValueKind.Array
                ? [.. p.Value.EnumerateArray().Select(Text)]
                : [Text(p.Value)];
        }
        return values.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string Text(System.Text.Json.JsonElement v) => v.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => v.GetString()!,
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        System.Text.Json.JsonValueKind.Number => v.GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => v.GetRawText(),
    };

    /// <summary>The first category, used where one category stands for the item (affinity, diversity).</summary>
    [IgnoreMember] public string? PrimaryCategory => Categories.Length > 0 ? Categories[0] : null;
}

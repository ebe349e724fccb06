using System.Collections.Frozen;
using MessagePack;

namespace Personalizer.Engine.Configuration;

/// <summary>
/// One immutable version of a site's configuration. A decide takes one reference at its start and
/// sees that version to the end; a change publishes a new object (atomic swap), never edits one.
/// </summary>
public sealed class SiteConfiguration
{
    public SiteConfiguration(int version, long createdAt, string author, string summary, IEnumerable<SlotDefinition> slots)
    {
        Version = version;
        CreatedAt = createdAt;
        Author = author;
        Summary = summary;
        Slots = slots.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
    }

    public int Version { get; }
    public long CreatedAt { get; }
    public string Author { get; }
    public string Summary { get; }
    public FrozenDictionary<string, SlotDefinition> Slots { get; }

    public static SiteConfiguration Empty { get; } = new(0, 0, "", "empty", []);
}

/// <summary>Serialized form of a configuration version inside a state snapshot.</summary>
[MessagePackObject]
public sealed class StoredConfigurationVersion
{
    [Key(0)] public int Version { get; set; }
    [Key(1)] public long CreatedAt { get; set; }
    [Key(2)] public string Author { get; set; } = "";
    [Key(3)] public string Summary { get; set; } = "";
    [Key(4)] public SlotDefinition[] Slots { get; set; } = [];

    public static StoredConfigurationVersion From(SiteConfiguration c) => new()
    {
        Version = c.Version,
        CreatedAt = c.CreatedAt,
        Author = c.Author,
        Summary = c.Summary,
        Slots = [.. c.Slots.Values],
    };

    public SiteConfiguration ToConfiguration() => new(Version, CreatedAt, Author, Summary, Slots);
}

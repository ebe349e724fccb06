using System.ComponentModel.DataAnnotations;

using Personalizer.Engine.Profiles;
using Personalizer.Engine.Sites;
using Personalizer.Engine.Storage.Faster;
using Personalizer.Engine.Storage.Redis;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine;

/// <summary>Settings bound from the <c>Personalizer</c> configuration section.</summary>
public sealed class PersonalizerOptions
{
    public const string SectionName = "Personalizer";

    /// <summary>Folder holding the event log, the profile store and its checkpoints.</summary>
    [Required]
    public string DataPath { get; set; } = "./data";

    /// <summary>Server-side time budget of one decide call; a strategy still running after it gives way to the slot's fallback.</summary>
    [Range(1, 10_000)]
    public int DecideBudgetMs { get; set; } = 50;

    /// <summary>Seconds between two checkpoints of the profile store (0 turns periodic checkpoints off; one is still taken on shutdown).</summary>
    [Range(0, 86_400)]
    public int CheckpointIntervalSeconds { get; set; } = 30;

    /// <summary>Take a full checkpoint on graceful shutdown, so the next start replays nothing.</summary>
    public bool CheckpointOnShutdown { get; set; } = true;

    /// <summary>Every n-th checkpoint also checkpoints the hash index; the others only the log.</summary>
    [Range(1, 1000)]
    public int IndexCheckpointEvery { get; set; } = 10;

    /// <summary>Seed the demo catalogue and slots when the data folder is empty.</summary>
    public bool SeedDemo { get; set; } = true;

    /// <summary>Keys that manage sites and their keys at runtime (<c>/v1/sites</c>); no site's data. At least 16 characters.</summary>
    public List<string> OperatorKeys { get; set; } = [];

    /// <summary>Sites (tenants) by id, each with its keys and storefront origins: the bootstrap; more are made at runtime.</summary>
    public Dictionary<string, SiteOptions> Sites { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where profiles live: <c>Faster</c> (embedded, this node only) or <c>Redis</c> (shared by every node).</summary>
    public StoreKind Store { get; set; } = StoreKind.Faster;

    /// <summary>This node's id in a shared store; made once and kept in <c>DataPath/node-id</c> when not set.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,64}$")]
    public string? NodeId { get; set; }

    public FasterOptions Faster { get; set; } = new();

    public RedisOptions Redis { get; set; } = new();

    public ProfileOptions Profiles { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public Recommendations.RecommendationOptions Recommendations { get; set; } = new();

    public Crm.CrmOptions Crm { get; set; } = new();

    public Archive.ArchiveOptions Archive { get; set; } = new();

    public Archive.RetentionOptions Retention { get; set; } = new();
}

public enum StoreKind
{
    Faster,
    Redis,
}


using System.ComponentModel.DataAnnotations;

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

    /// <summary>Sites (tenants) by id, each with its keys and storefront origins.</summary>
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
}

public sealed class SiteOptions
{
    /// <summary>Public keys a storefront page carries: decide, events, the visitor's own preferences.</summary>
    public List<string> SiteKeys { get; set; } = [];

    /// <summary>Secret keys that may do everything within the site.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Storefront origins allowed to call the API from a browser (CORS), e.g. <c>https://shop.example</c>.</summary>
    public List<string> Origins { get; set; } = [];
}

public enum StoreKind
{
    Faster,
    Redis,
}

public sealed class RedisOptions
{
    /// <summary>A StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6379</c> or several cluster nodes separated by commas.</summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>Prefix of every key, so several deployments can share one Redis.</summary>
    [RegularExpression("^[A-Za-z0-9_.-]{1,32}$")]
    public string KeyPrefix { get; set; } = "pz";

    /// <summary>Anonymous profiles (no customer id, no order) expire after this many days without activity (0: never).</summary>
    [Range(0, 3650)]
    public int AnonymousProfileTtlDays { get; set; } = 30;

    /// <summary>How long an event id is remembered for deduplication, in days.</summary>
    [Range(1, 3650)]
    public int EventIdTtlDays { get; set; } = 7;

    /// <summary>Time-out of one Redis command, in milliseconds.</summary>
    [Range(10, 60_000)]
    public int CommandTimeoutMs { get; set; } = 1000;
}

public sealed class FasterOptions
{
    /// <summary>Memory held by the in-memory part of the profile log, in MiB; older records live on disk.</summary>
    [Range(4, 1 << 20)]
    public int MemoryMb { get; set; } = 256;

    /// <summary>Page size of the profile log, in KiB; a stored record never exceeds it.</summary>
    [Range(64, 1 << 20)]
    public int PageKb { get; set; } = 1024;

    /// <summary>Size of the hash index, in MiB (64 bytes per bucket, 7 keys per bucket before overflow).</summary>
    [Range(1, 1 << 16)]
    public int IndexMb { get; set; } = 64;

    /// <summary>Memory of the event log's in-memory tail, in MiB.</summary>
    [Range(2, 1 << 14)]
    public int EventLogMemoryMb { get; set; } = 32;
}

public sealed class ProfileOptions
{
    [Range(1, 200)]
    public int RecentlyViewedLimit { get; set; } = 20;

    [Range(1, 1000)]
    public int PurchasedItemsLimit { get; set; } = 100;

    [Range(1, 200)]
    public int AffinityCategoriesLimit { get; set; } = 30;

    /// <summary>Half-life of category affinity, in days.</summary>
    [Range(0.01, 3650)]
    public double AffinityHalfLifeDays { get; set; } = 14;

    /// <summary>Inactivity that ends a session, in minutes.</summary>
    [Range(1, 1440)]
    public int SessionTimeoutMinutes { get; set; } = 30;

    /// <summary>Half-life of the trending score, in hours.</summary>
    [Range(0.01, 8760)]
    public double TrendingHalfLifeHours { get; set; } = 24;
}

public sealed class LimitOptions
{
    [Range(1, 10_000)]
    public int MaxEventsPerBatch { get; set; } = 500;

    [Range(1, 100)]
    public int MaxSlotsPerDecide { get; set; } = 20;

    [Range(1, 10_000)]
    public int MaxItemsPerUpsert { get; set; } = 1000;

    /// <summary>How far in the past an event's timestamp may lie, in days.</summary>
    [Range(1, 3650)]
    public int MaxEventAgeDays { get; set; } = 30;

    /// <summary>How far in the future an event's timestamp may lie (clock skew), in seconds.</summary>
    [Range(0, 86_400)]
    public int MaxClockSkewSeconds { get; set; } = 300;
}

using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Storage.Redis;

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

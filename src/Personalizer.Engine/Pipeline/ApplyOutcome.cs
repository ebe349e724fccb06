using Personalizer.Engine.Configuration;

namespace Personalizer.Engine.Pipeline;

/// <summary>What applying one log record did.</summary>
public sealed class ApplyOutcome
{
    public int Applied { get; set; }
    public int Duplicates { get; set; }
    public bool Found { get; set; }
    public ConfigChangeResult Config { get; set; }

    /// <summary>Events of visitors who refused tracking: counted, not stored.</summary>
    public int Dropped { get; set; }

    /// <summary>Durable in the log but waiting for the profile store; applied, in order, when it is back.</summary>
    public int Queued { get; set; }

    internal static ApplyOutcome Deferred(Storage.LogRecord record) => new()
    {
        Queued = record is Storage.EventBatchRecord events ? events.Events.Length : 1,
        Found = true,
    };
}

namespace Personalizer.Engine.Pipeline;

/// <summary>What applying one log record did.</summary>
public sealed class ApplyOutcome
{
    public int Applied { get; set; }
    public int Duplicates { get; set; }
    public bool Found { get; set; }

    /// <summary>What the handler answers beyond the counts (a configuration change's new version).</summary>
    public object? Detail { get; set; }

    /// <summary>Events of visitors who refused tracking: counted, not stored.</summary>
    public int Dropped { get; set; }

    /// <summary>Durable in the log but waiting for the store; applied, in order, when it is back.</summary>
    public int Queued { get; set; }

    internal static ApplyOutcome Deferred(LogRecord record) => new() { Queued = record.Count, Found = true };
}

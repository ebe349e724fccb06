namespace Personalizer.Engine.Pipeline;

/// <summary>
/// The store whose checkpoints say how far the log has been applied: it keeps a marker with each
/// checkpoint, and recovery returns to the latest one. Implemented by the profile stores.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Returns to the latest checkpoint, if there is one, and gives back the marker stored with it.</summary>
    ValueTask<CheckpointMarker?> RecoverAsync(CancellationToken ct = default);

    /// <summary>
    /// Starts a checkpoint of every write completed before this call, together with <paramref name="marker"/>,
    /// before it returns; the task completes when the checkpoint is durable (true) or could not start
    /// because another is still running (false). Writes made meanwhile may or may not be included
    /// (replay is idempotent).
    /// </summary>
    Task<bool> CheckpointAsync(CheckpointMarker marker, bool full, CancellationToken ct = default);
}

/// <summary>Where replay starts after a checkpoint: the log address and the last sequence number applied before it.</summary>
public sealed record CheckpointMarker(long ReplayFrom, long LastSeq);

/// <summary>A stored value changed since it was read; read it again and re-apply.</summary>
public sealed class WriteConflictException(string key) : Exception($"{key} changed since it was read.");

/// <summary>The store cannot be reached; reads fall back and writes wait in the local log.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The data folder cannot be used: read-only, or its stored state cannot be read. The message says which and what to do.</summary>
public sealed class DataFolderException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How the durable log runs: where its state lives and how often it checkpoints.</summary>
public sealed class LedgerOptions
{
    /// <summary>The data folder; the state snapshots live in its <c>state</c> folder.</summary>
    public required string DataPath { get; init; }

    /// <summary>Seconds between two checkpoints (0: none but the one at shutdown).</summary>
    public int CheckpointIntervalSeconds { get; init; } = 30;

    public bool CheckpointOnShutdown { get; init; } = true;

    /// <summary>Every n-th checkpoint is a full one (index too); the others only the log.</summary>
    public int IndexCheckpointEvery { get; init; } = 10;

    /// <summary>
    /// Least time between two commits of the log while only background records (served impressions) wait: nobody
    /// waits for those, so they gather for up to this long and share one commit. A record someone waits for
    /// (an event batch, a change) is committed at once, with whatever gathered.
    /// </summary>
    public TimeSpan BackgroundCommitInterval { get; init; } = TimeSpan.FromMilliseconds(20);
}

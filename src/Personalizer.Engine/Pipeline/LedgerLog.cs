using Microsoft.Extensions.Logging;

namespace Personalizer.Engine.Pipeline;

internal static partial class LedgerLog
{
    [LoggerMessage(4, LogLevel.Error, "Applying log record {Seq} ({Kind}) failed; it stays in the log")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, long seq, string kind);

    [LoggerMessage(3, LogLevel.Information, "Replayed {Records} log records (sequence {FirstSeq}..{LastSeq}) in {Milliseconds} ms")]
    public static partial void Replayed(ILogger logger, int records, long firstSeq, long lastSeq, long milliseconds);

    [LoggerMessage(11, LogLevel.Warning, "The shutdown checkpoint did not finish within {Seconds} s; the next start replays the log from the previous checkpoint")]
    public static partial void ShutdownCheckpointIncomplete(ILogger logger, double seconds);

    [LoggerMessage(6, LogLevel.Error, "Checkpoint failed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(31, LogLevel.Information, "The store is back; applying waiting records from {Seq} on")]
    public static partial void StoreBack(ILogger logger, long seq);

    [LoggerMessage(30, LogLevel.Error, "The store cannot be reached (record {Seq}); records wait in the local log and decide falls back until it is back")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, long seq);

    [LoggerMessage(5, LogLevel.Debug, "Checkpoint {Kind} taken at sequence {Seq} in {Milliseconds} ms")]
    public static partial void CheckpointTaken(ILogger logger, string kind, long seq, long milliseconds);

    [LoggerMessage(12, LogLevel.Warning, "The state snapshot of checkpoint {LastSeq} is missing or of an older layout; the in-memory state is rebuilt by replaying the whole log")]
    public static partial void SnapshotMissing(ILogger logger, long lastSeq);

    [LoggerMessage(40, LogLevel.Error, "The event log cannot be made durable; writes are refused (503) until the disk takes them again, decide keeps answering")]
    public static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(41, LogLevel.Warning, "The event log still cannot be written: {Reason}")]
    public static partial void LogStillFailing(ILogger logger, string reason);

    [LoggerMessage(42, LogLevel.Information, "The disk takes writes again: the event log was reopened at its last good commit and writes resume (after {Attempts} failed probes)")]
    public static partial void LogResumed(ILogger logger, int attempts);

    [LoggerMessage(44, LogLevel.Information, "The store is back: {Records} records since the latest checkpoint applied again before record {Seq} (writes a failover lost are restored; the rest are skipped)")]
    public static partial void Repaired(ILogger logger, int records, long seq);

    [LoggerMessage(43, LogLevel.Warning, "The last commit at shutdown failed; every acknowledged record was committed before its answer")]
    public static partial void ShutdownCommitFailed(ILogger logger, Exception exception);
}

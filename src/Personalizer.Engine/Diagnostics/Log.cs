using Microsoft.Extensions.Logging;

namespace Personalizer.Engine.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Profile store recovered from its checkpoint; replay starts at log address {ReplayFrom} after sequence {LastSeq}")]
    public static partial void StoreRecovered(ILogger logger, long replayFrom, long lastSeq);

    [LoggerMessage(2, LogLevel.Warning, "A checkpoint failed while the store closed")]
    public static partial void CheckpointFailedOnClose(ILogger logger, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Replayed {Records} log records (sequence {FirstSeq}..{LastSeq}) in {Milliseconds} ms")]
    public static partial void Replayed(ILogger logger, int records, long firstSeq, long lastSeq, long milliseconds);

    [LoggerMessage(4, LogLevel.Error, "Applying log record {Seq} ({Kind}) failed; it stays in the log")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, long seq, string kind);

    [LoggerMessage(5, LogLevel.Debug, "Checkpoint {Kind} taken at sequence {Seq} in {Milliseconds} ms")]
    public static partial void CheckpointTaken(ILogger logger, string kind, long seq, long milliseconds);

    [LoggerMessage(6, LogLevel.Error, "Checkpoint failed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Seeded the demo site '{Site}': {Items} items, {Slots} slots")]
    public static partial void DemoSeeded(ILogger logger, string site, int items, int slots);

    [LoggerMessage(8, LogLevel.Warning, "Slot '{Slot}' strategy '{Strategy}' missed the decide deadline; the fallback answered")]
    public static partial void StrategyTimedOut(ILogger logger, string slot, string strategy);

    [LoggerMessage(9, LogLevel.Error, "Slot '{Slot}' strategy '{Strategy}' failed; the fallback answered")]
    public static partial void StrategyFailed(ILogger logger, Exception exception, string slot, string strategy);

    [LoggerMessage(11, LogLevel.Warning, "The shutdown checkpoint did not finish within {Seconds} s; the next start replays the log from the previous checkpoint")]
    public static partial void ShutdownCheckpointIncomplete(ILogger logger, double seconds);

    [LoggerMessage(10, LogLevel.Warning, "Impression log is full; {Dropped} impressions dropped")]
    public static partial void ImpressionsDropped(ILogger logger, long dropped);

    [LoggerMessage(30, LogLevel.Error, "The profile store cannot be reached (record {Seq}); records wait in the local log and decide falls back until it is back")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, long seq);

    [LoggerMessage(31, LogLevel.Information, "The profile store is back; applying waiting records from {Seq} on")]
    public static partial void StoreBack(ILogger logger, long seq);

    [LoggerMessage(32, LogLevel.Information, "Shared changes: caught up to {Position} ({Applied} changes) in {Milliseconds} ms")]
    public static partial void FeedCaughtUp(ILogger logger, string position, int applied, long milliseconds);

    [LoggerMessage(33, LogLevel.Error, "Reading shared changes failed; retrying")]
    public static partial void FeedReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(34, LogLevel.Error, "Applying shared change {Position} failed; it is skipped")]
    public static partial void FeedApplyFailed(ILogger logger, Exception exception, string position);
}

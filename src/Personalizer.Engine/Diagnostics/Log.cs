using Microsoft.Extensions.Logging;

namespace Personalizer.Engine.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Profile store recovered from its checkpoint; replay starts at log address {ReplayFrom} after sequence {LastSeq}")]
    public static partial void StoreRecovered(ILogger logger, long replayFrom, long lastSeq);

    [LoggerMessage(73, LogLevel.Debug, "Profile store checkpoint {Token}: {Kind}, version {Version}, {Outcome}")]
    public static partial void StoreCheckpoint(ILogger logger, Guid token, string kind, long version, string outcome);

    [LoggerMessage(70, LogLevel.Error, "Profile store checkpoint {Token} cannot be recovered; it is moved aside and the one before is tried (more of the log is replayed)")]
    public static partial void CheckpointUnusable(ILogger logger, Exception? exception, Guid token);

    [LoggerMessage(71, LogLevel.Error, "Profile store checkpoint {Token} met a write error (code {Error}); it is removed and the previous checkpoint stays the one recovery starts from")]
    public static partial void CheckpointWriteFailed(ILogger logger, Guid token, uint error);

    [LoggerMessage(72, LogLevel.Information, "Profile log compacted: {CompactedMb} MiB read, {Copied} live records copied to the tail, {Dropped} dropped; {RemainingMb} MiB remain; {ElapsedMs} ms, {FullReads} records read again to tell whether they are live")]
    public static partial void StoreCompacted(ILogger logger, long compactedMb, long remainingMb, long copied, long dropped, long elapsedMs, long fullReads);

    [LoggerMessage(74, LogLevel.Error, "Profile log compaction met a record whose lengths run past its page at address {Address}; the rest of that page is skipped")]
    public static partial void CompactionMalformedRecord(ILogger logger, long address);

    [LoggerMessage(2, LogLevel.Warning, "A checkpoint failed while the store closed")]
    public static partial void CheckpointFailedOnClose(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Seeded the demo site '{Site}': {Items} items, {Slots} slots")]
    public static partial void DemoSeeded(ILogger logger, string site, int items, int slots);

    [LoggerMessage(8, LogLevel.Warning, "Slot '{Slot}' strategy '{Strategy}' missed the decide deadline; the fallback answered")]
    public static partial void StrategyTimedOut(ILogger logger, string slot, string strategy);

    [LoggerMessage(9, LogLevel.Error, "Slot '{Slot}' strategy '{Strategy}' failed; the fallback answered")]
    public static partial void StrategyFailed(ILogger logger, Exception exception, string slot, string strategy);

    [LoggerMessage(32, LogLevel.Information, "Shared changes: caught up to {Position} ({Applied} changes) in {Milliseconds} ms")]
    public static partial void FeedCaughtUp(ILogger logger, string position, int applied, long milliseconds);

    [LoggerMessage(33, LogLevel.Error, "Reading shared changes failed; retrying")]
    public static partial void FeedReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(34, LogLevel.Error, "Applying shared change {Position} failed; it is skipped")]
    public static partial void FeedApplyFailed(ILogger logger, Exception exception, string position);
}

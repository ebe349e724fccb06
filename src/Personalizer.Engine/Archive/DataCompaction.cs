using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>What a full compaction did.</summary>
public sealed record CompactionReport(int ArchiveFilesRewritten, int VisitorsPurged, long LogBeginsAt, long Milliseconds);

/// <summary>
/// Erasure now, instead of within the stated time (<c>POST /v1/data/compact</c>, <c>personalizer data compact</c>):
/// a checkpoint and an archive pass (the archive files holding erased visitors are rewritten); the log's current
/// file is filled so that everything before lies in whole files; the profile store rewrites its whole log
/// without the erased visitors' profiles and event-id claims; two checkpoints (older checkpoints and state
/// snapshots, which still hold the old bytes, are deleted); a last archive pass truncates the log, and the
/// commit that follows deletes its old files. Afterwards no file of the data folder holds an erased visitor's id.
/// Writes and decides go on meanwhile; the store is held while it rewrites its log.
/// </summary>
public sealed partial class DataCompaction(Ledger ledger, Archiver archiver, IProfileStore store, RetentionOptions retention, TimeProvider time, ILogger<DataCompaction> logger) : IDisposable
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public async Task<CompactionReport> RunAsync(CancellationToken ct = default)
    {
        await _one.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await ledger.CheckpointAsync(ct).ConfigureAwait(false);
            var first = await archiver.RunOnceAsync(ct).ConfigureAwait(false);
            var purge = archiver.ToPurge;
            await ledger.RollLogAsync(ct).ConfigureAwait(false);
            await store.PurgeAsync(purge, time.GetUtcNow().AddDays(-retention.EventIdDays), ct).ConfigureAwait(false);
            for (var i = 0; i < 2; i++)
            {
                if (!await ledger.CheckpointAsync(ct).ConfigureAwait(false))
                {
                    throw new LedgerUnavailableException("A checkpoint could not be taken; the compaction is incomplete (run it again).");
                }
            }
            var last = await archiver.RunOnceAsync(ct).ConfigureAwait(false);
            await ledger.CommitLogAsync(ct).ConfigureAwait(false);
            archiver.Purged(purge);
            var report = new CompactionReport(first.Erased + last.Erased, purge.Count, last.LogBegin, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            LogCompacted(logger, report.ArchiveFilesRewritten, report.VisitorsPurged, report.Milliseconds);
            return report;
        }
        finally
        {
            _one.Release();
        }
    }

    public void Dispose() => _one.Dispose();

    [LoggerMessage(82, LogLevel.Information, "Full compaction: {Files} archive files rewritten, {Visitors} erased visitors purged from the store and the log, {Milliseconds} ms")]
    private static partial void LogCompacted(ILogger logger, int files, int visitors, long milliseconds);
}

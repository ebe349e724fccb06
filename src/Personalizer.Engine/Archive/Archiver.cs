using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>Where the archive lives and where this node keeps its archiving position.</summary>
public sealed record ArchiveSettings(string Root, string StatePath, ArchiveOptions Options);

/// <summary>
/// Moves history out of the durable log: every <see cref="ArchiveOptions.IntervalSeconds"/>, the records
/// a durable checkpoint covers are written to the archive, the position is saved, and the log is
/// truncated up to it (never past what the older kept checkpoint replays, nor while a reader is reading
/// the log's tail). Erasures met on the way rewrite the archive files that hold the visitor. Then closed
/// days are merged to one file per node, days past retention are deleted, and the profile store compacts
/// its log (dropping event-id claims older than <c>Retention:EventIdDays</c>).
/// </summary>
public sealed partial class Archiver(
    Ledger ledger, IEventLog log, RecordTypes types, EventArchive archive, ArchiveSettings settings, LogNode node, IProfileStore store, RetentionOptions retention, TimeProvider time, ILogger<Archiver> logger) : BackgroundService, IArchivePosition
{
    /// <summary>Rows (events, served slots) per file: a pass over a busy minute is written as several files a day.</summary>
    private const int MaxRowsPerFile = 25_000;

    /// <summary>
    /// Rows decoded from the log and held as .NET objects at once; they go on into the stage (DuckDB's memory), so
    /// few of them live long enough to be promoted by a collection.
    /// </summary>
    private const int MaxRowsPerBatch = 1_000;

    private static int RowsOf(LogRecord record)
    {
        switch (record)
        {
            case EventBatchRecord events:
                return events.Events.Length;
            case ImpressionBatchRecord impressions:
                var slots = 0;
                foreach (var impression in impressions.Impressions)
                {
                    slots += impression.Slots.Length;
                }
                return slots;
            default:
                return 1;
        }
    }
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _running = new(1, 1);
    private ArchiveState _state = ArchiveState.Load(settings.StatePath);
    private int _readers;
    private HashSet<(string Site, string Visitor)>? _denied; // visitors whose latest consent is a refusal (the archiver's own)

    /// <summary>What the archive holds of this node's log: the log address and sequence number up to which records are archived.</summary>
    public (long Address, long Seq) Position
    {
        get
        {
            lock (_lock)
            {
                return (_state.Address, _state.Seq);
            }
        }
    }

    /// <summary>Erasures archived but not yet rewritten out of older files: readers leave these visitors out.</summary>
    public IReadOnlyList<(string Site, string Visitor)> PendingErasures
    {
        get
        {
            lock (_lock)
            {
                return [.. _state.Erasures.Select(e => (e.Site, e.Visitor))];
            }
        }
    }

    /// <summary>Erased visitors whose bytes a full compaction still has to clear from the store and the log.</summary>
    public IReadOnlyList<(string Site, string Visitor)> ToPurge
    {
        get
        {
            lock (_lock)
            {
                return [.. (_state.ToPurge ?? []).Select(e => (e.Site, e.Visitor))];
            }
        }
    }

    /// <summary>A full compaction cleared these: they leave the state file too.</summary>
    public void Purged(IReadOnlyCollection<(string Site, string Visitor)> done)
    {
        var set = done.ToHashSet();
        Save(_state with { ToPurge = [.. (_state.ToPurge ?? []).Where(e => !set.Contains((e.Site, e.Visitor)))] });
    }

    /// <summary>
    /// Marks a reader of the log's tail: the log is not truncated until it is disposed. Gives the position
    /// the reader must start the tail from (everything before it is in the archive).
    /// </summary>
    public ReadLease BeginRead()
    {
        lock (_lock)
        {
            _readers++;
            return new ReadLease(_state.Address, _state.Seq, EndRead);
        }
    }

    private void EndRead()
    {
        lock (_lock)
        {
            _readers--;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.Options.IntervalSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A full disk, say: the records stay in the log and are archived at the next run.
                LogArchiveFailed(logger, ex);
            }
        }
    }

    /// <summary>One pass: archive what the latest checkpoint covers, truncate the log, merge closed days, apply retention.</summary>
    public async Task<ArchivePass> RunOnceAsync(CancellationToken ct = default)
    {
        await _running.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var pass = await Task.Run(() => RunOnce(ct), ct).ConfigureAwait(false);
            // The store's housekeeping: overwritten versions and expired event-id claims leave the profile log.
            pass.Compacted = await store.CompactAsync(time.GetUtcNow().AddDays(-retention.EventIdDays), ct).ConfigureAwait(false);
            return pass;
        }
        finally
        {
            _running.Release();
        }
    }

    private ArchivePass RunOnce(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var pass = new ArchivePass();
        if (ledger.LatestCheckpoint is { } checkpoint && checkpoint.ReplayFrom > _state.Address)
        {
            var from = Math.Max(_state.Address, log.BeginAddress);
            using var stage = archive.BeginStage(node.Id);
            var batch = new List<(long Seq, LogRecord Record)>();
            int rows = 0, staged = 0;
            foreach (var entry in LogReader.Read(log, types, from, until: checkpoint.ReplayFrom, ct: ct))
            {
                batch.Add(entry);
                rows += RowsOf(entry.Record);
                if (rows >= MaxRowsPerBatch)
                {
                    staged += rows;
                    Stage(stage, batch, pass, ref staged);
                    batch.Clear();
                    rows = 0;
                }
            }
            Stage(stage, batch, pass, ref staged);
            Flush(stage, pass, ref staged);
            Save(_state with { Address = checkpoint.ReplayFrom, Seq = Math.Max(_state.Seq, checkpoint.LastSeq) });
        }
        lock (_lock)
        {
            pass.LogBegin = _readers == 0 ? ledger.TruncateLog(_state.Address) : log.BeginAddress;
        }
        var now = time.GetUtcNow();
        pass.Merged = archive.MergeClosedDays(node.Id, ArchiveLayout.Day(now.ToUnixTimeMilliseconds()));
        pass.Expired = retention.Days == 0 ? 0 : archive.DeleteDaysBefore(ArchiveLayout.Day(now.AddDays(-retention.Days).ToUnixTimeMilliseconds()));
        if (pass.Rows > 0 || pass.Erased > 0)
        {
            LogArchived(logger, pass.Rows, pass.Erased, pass.Merged, pass.Expired, pass.LogBegin, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return pass;
    }

    /// <summary>
    /// Stages one batch of records in log order, and writes the stage out once it holds a file's worth. An erasure
    /// in the batch first writes out what is staged and rewrites the files already archived, and the visitor's rows
    /// before it in this batch are left out; rows after it (a visitor that came back under the same id) stay.
    /// </summary>
    private void Stage(ArchiveStage stage, List<(long Seq, LogRecord Record)> batch, ArchivePass pass, ref int staged)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var erasedAt = new Dictionary<(string, string), long>();
        foreach (var (seq, record) in batch)
        {
            if (record is EraseProfileRecord erase)
            {
                erasedAt[(erase.SiteId, erase.VisitorId)] = seq;
            }
        }
        var erasing = erasedAt.Count > 0 || _state.Erasures.Count > 0;
        if (erasing)
        {
            // The rewrite reaches files only: what is staged goes to its files first.
            Flush(stage, pass, ref staged);
        }
        if (erasedAt.Count > 0)
        {
            // Remembered first: a crash before the rewrite finishes leaves them pending, and readers skip them.
            Save(_state with { Erasures = [.. _state.Erasures, .. erasedAt.Keys.Select(k => new ArchiveState.Erasure(k.Item1, k.Item2))] });
        }
        if (_state.Erasures.Count > 0)
        {
            pass.Erased += archive.Erase([.. _state.Erasures.Select(e => (e.Site, e.Visitor))]);
        }
        // Consent as each record was applied: what the archive knew, then this batch's changes in order. A
        // visitor who refused tracking leaves no row after the refusal (their events were dropped when applied).
        _denied ??= [.. archive.TrackingDenied(null)];
        var changes = new Dictionary<(string, string), List<(long Seq, bool Denied)>>();
        foreach (var (seq, record) in batch)
        {
            if (record is PreferencesRecord preferences)
            {
                var key = (preferences.SiteId, preferences.VisitorId);
                if (!changes.TryGetValue(key, out var list))
                {
                    changes[key] = list = [];
                }
                list.Add((seq, preferences.Preferences.Tracking == TrackingConsent.Denied));
            }
        }
        bool DeniedAt(string site, string visitor, long seq)
        {
            var denied = _denied.Contains((site, visitor));
            if (changes.TryGetValue((site, visitor), out var list))
            {
                foreach (var (at, value) in list)
                {
                    if (at < seq)
                    {
                        denied = value;
                    }
                }
            }
            return denied;
        }
        bool Erased(string site, string visitor, long seq) => erasedAt.TryGetValue((site, visitor), out var at) && seq < at;
        stage.Append(batch, (site, visitor, seq) => Erased(site, visitor, seq) || DeniedAt(site, visitor, seq), Erased);
        foreach (var (key, list) in changes)
        {
            if (list[^1].Denied)
            {
                _denied.Add(key);
            }
            else
            {
                _denied.Remove(key);
            }
        }
        _stagedUntil = batch[^1].Seq;
        if (erasing || staged >= MaxRowsPerFile)
        {
            Flush(stage, pass, ref staged);
        }
    }

    /// <summary>
    /// Writes out what is staged, then saves the position after the last record staged (what readers take from the
    /// archive instead of the log) and moves the erasures now done to the purge list.
    /// </summary>
    private void Flush(ArchiveStage stage, ArchivePass pass, ref int staged)
    {
        pass.Rows += stage.Flush();
        staged = 0;
        if (_stagedUntil > _state.Seq || _state.Erasures.Count > 0)
        {
            Save(_state with { Seq = Math.Max(_state.Seq, _stagedUntil), Erasures = [], ToPurge = [.. _state.ToPurge ?? [], .. _state.Erasures] });
        }
    }

    private long _stagedUntil;

    private void Save(ArchiveState state)
    {
        state.Save(settings.StatePath);
        lock (_lock)
        {
            _state = state;
        }
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(80, LogLevel.Information, "Archived {Rows} rows ({Erased} files rewritten for erasures, {Merged} days merged, {Expired} days past retention deleted); the log now begins at {LogBegin}; {Milliseconds} ms")]
    private static partial void LogArchived(ILogger logger, long rows, int erased, int merged, int expired, long logBegin, long milliseconds);

    [LoggerMessage(81, LogLevel.Error, "Archiving failed; the records stay in the log and are archived at the next run")]
    private static partial void LogArchiveFailed(ILogger logger, Exception exception);
}

/// <summary>How far the archive holds a node's log, for readers of history.</summary>
public interface IArchivePosition
{
    /// <summary>Erasures archived but not yet rewritten out of older files: readers leave these visitors out.</summary>
    IReadOnlyList<(string Site, string Visitor)> PendingErasures { get; }

    /// <summary>Where a reader's tail starts; while the lease is held, the log is not truncated.</summary>
    ReadLease BeginRead();
}

/// <summary>While held, the log is not truncated; <see cref="Address"/> and <see cref="Seq"/> are where the archive ends.</summary>
public sealed class ReadLease(long address, long seq, Action? release = null) : IDisposable
{
    private int _disposed;

    public long Address { get; } = address;

    public long Seq { get; } = seq;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            release?.Invoke();
        }
    }
}

/// <summary>The saved position of a stopped node (or a copy of its data folder), for offline readers.</summary>
public sealed class SavedArchivePosition(string statePath) : IArchivePosition
{
    private readonly ArchiveState _state = ArchiveState.Load(statePath);

    public IReadOnlyList<(string Site, string Visitor)> PendingErasures => [.. _state.Erasures.Select(e => (e.Site, e.Visitor))];

    public ReadLease BeginRead() => new(_state.Address, _state.Seq);
}

/// <summary>What one archiving pass did.</summary>
public sealed class ArchivePass
{
    public long Rows { get; set; }
    public int Erased { get; set; }
    public int Merged { get; set; }
    public int Expired { get; set; }
    public long LogBegin { get; set; }
    public long Compacted { get; set; }
}

/// <summary>This node's archiving position and the erasures still to rewrite, kept in <c>state/archive.json</c>.</summary>
/// <param name="ToPurge">Erasures done in the archive whose bytes may still be in the store's files and the log (<see cref="DataCompaction"/> clears them).</param>
public sealed record ArchiveState(long Address, long Seq, IReadOnlyList<ArchiveState.Erasure> Erasures, IReadOnlyList<ArchiveState.Erasure>? ToPurge = null)
{
    public sealed record Erasure(string Site, string Visitor);

    public static ArchiveState Load(string path)
    {
        if (!File.Exists(path))
        {
            return new ArchiveState(0, 0, []);
        }
        return JsonSerializer.Deserialize(File.ReadAllBytes(path), ArchiveStateJson.Default.ArchiveState) ?? new ArchiveState(0, 0, []);
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DurableFiles.Replace(path, stream => JsonSerializer.Serialize(stream, this, ArchiveStateJson.Default.ArchiveState));
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(ArchiveState))]
internal sealed partial class ArchiveStateJson : System.Text.Json.Serialization.JsonSerializerContext;

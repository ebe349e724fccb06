using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// The one way state changes. A change is serialized with a sequence number, appended to the durable
/// log, committed (group commit), and then applied by a single applier in log order; its caller is
/// answered only after both. Checkpoints are requested through the same queue, so the applier knows
/// exactly which records a checkpoint holds; start-up recovers the latest checkpoint and replays the
/// log after it. See Pipeline/README.md for why replay is exactly-once.
/// </summary>
public sealed class Ledger : IAsyncDisposable
{
    private readonly IEventLog _log;
    private readonly ICheckpointStore _store;
    private readonly ProjectionRegistry _projections;
    private readonly LedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _stateDirectory;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _enqueueLock = new();
    private readonly CancellationTokenSource _stopping = new();

    private static readonly TimeSpan ShutdownCheckpointTimeout = TimeSpan.FromSeconds(5);
    private const int MaxConflictBackoffMs = 50;
    private const long FirstLogAddress = 64; // where an untruncated log begins

    private long _seq;
    private long _durableSeq = -1;
    private int _checkpoints;
    private bool _accepting;
    private Task _applier = Task.CompletedTask;
    private readonly Queue<Pending> _work = new(); // the applier's own
    private Task _checkpointer = Task.CompletedTask;

    public Ledger(IEventLog log, ICheckpointStore store, ProjectionRegistry projections, LedgerOptions options, TimeProvider time, ILogger<Ledger> logger)
    {
        _log = log;
        _store = store;
        _projections = projections;
        _options = options;
        _time = time;
        _logger = logger;
        _stateDirectory = Path.Combine(options.DataPath, "state");
        _metrics = new LedgerMetrics(this);
    }

    private readonly LedgerMetrics _metrics;

    /// <summary>The record types every projection registered: what readers of the log need to read it.</summary>
    public RecordTypes Types => _projections.Types;

    /// <summary>True while the store cannot be reached: records wait in the log, in order, and are applied when it returns.</summary>
    public bool StoreDegraded => Volatile.Read(ref _degraded);

    /// <summary>Records written to the log but not yet applied.</summary>
    public long Backlog => Math.Max(0, Interlocked.Read(ref _seq) - Interlocked.Read(ref _appliedSeq));

    private bool _degraded;
    private long _appliedSeq;

    /// <summary>True once recovery and replay are done (writes are accepted unless <see cref="WritesRefused"/>).</summary>
    public bool IsReady => Volatile.Read(ref _accepting);

    /// <summary>
    /// Why writes are refused right now (the log could not be made durable: a full or failing disk), or
    /// null. Decide keeps answering meanwhile; writes resume by themselves once the disk takes them again.
    /// </summary>
    public string? WritesRefused => Volatile.Read(ref _logFailure);

    private string? _logFailure;
    private int _epoch; // bumped when the log is given up and reopened; a record enqueued before is not in it
    private long _committedSeq; // the last record the log holds durably
    private readonly Queue<CheckpointMarker> _durableCheckpoints = new(); // the checkpoints kept, oldest first (recovery can fall back to the older)
    private static readonly TimeSpan RepairInterval = TimeSpan.FromSeconds(1);

    /// <summary>The latest durable checkpoint: every record before its log address is applied and held by the store.</summary>
    public CheckpointMarker? LatestCheckpoint
    {
        get
        {
            lock (_durableCheckpoints)
            {
                return _durableCheckpoints.Count == 0 ? null : _durableCheckpoints.Last();
            }
        }
    }

    /// <summary>
    /// Drops the log before <paramref name="address"/>, but never what the oldest kept checkpoint would
    /// replay (recovery may fall back to it). Returns the address the log now begins at.
    /// </summary>
    public long TruncateLog(long address)
    {
        lock (_durableCheckpoints)
        {
            if (_durableCheckpoints.Count == 0)
            {
                return _log.BeginAddress;
            }
            address = Math.Min(address, _durableCheckpoints.Peek().ReplayFrom);
        }
        lock (_enqueueLock)
        {
            if (_logFailure is null && address > _log.BeginAddress)
            {
                _log.TruncateUntil(address); // durable with the next commit
            }
            return _log.BeginAddress;
        }
    }

    /// <summary>
    /// Fills the rest of the log's current file with entries that are never applied (sequence 0), so that
    /// everything written so far lies in files that truncation can delete whole (erasure: no byte of an
    /// erased visitor may stay behind in a half-used file). Returns the address where the next record goes.
    /// </summary>
    public async Task<long> RollLogAsync(CancellationToken ct = default)
    {
        long tail;
        lock (_enqueueLock)
        {
            if (!_accepting || _logFailure is not null)
            {
                throw new LedgerUnavailableException(_logFailure ?? "The service is not ready for writes.");
            }
            var segment = _log.SegmentSize;
            var boundary = (_log.TailAddress / segment + 1) * segment;
            var filler = new byte[(int)Math.Min(1 << 20, segment / 8)]; // zeros: sequence 0
            while (_log.TailAddress < boundary)
            {
                _log.Enqueue(filler);
            }
            tail = _log.TailAddress;
        }
        await _log.CommitAsync(ct).ConfigureAwait(false);
        return tail;
    }

    /// <summary>Makes a truncation durable now (the log deletes the files before its start when it commits).</summary>
    public ValueTask CommitLogAsync(CancellationToken ct = default) => _log.CommitAsync(ct);

    /// <summary>Highest sequence number handed out.</summary>
    public long LastSeq => Interlocked.Read(ref _seq);

    public async Task StartAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var marker = await _store.RecoverAsync(ct).ConfigureAwait(false);
        var from = _log.BeginAddress;
        var snapshot = marker is null ? null : StateSnapshot.TryRead(_stateDirectory, marker.LastSeq);
        foreach (var part in _projections.Parts)
        {
            part.Load(snapshot?.Parts!.TryGetValue(part.Name, out var saved) == true ? new ReadOnlyMemory<byte>(saved) : (ReadOnlyMemory<byte>?)null);
        }
        if (marker is null && _log.BeginAddress > FirstLogAddress)
        {
            throw new DataFolderException($"The data folder '{_options.DataPath}' is corrupt: the profile store has no checkpoint that can be read, and the event log no longer holds the whole history (it was truncated up to {_log.BeginAddress}). Restore the folder from a backup, or move it aside to start empty.");
        }
        if (marker is not null && marker.ReplayFrom > _log.CommittedUntilAddress)
        {
            throw new DataFolderException($"The data folder '{_options.DataPath}' is corrupt: the event log ends at {_log.CommittedUntilAddress}, before the profile store's checkpoint ({marker.ReplayFrom}); its commit records are missing or cannot be read. Restore the folder from a backup, or move it aside to start empty.");
        }
        if (marker is not null)
        {
            if (snapshot is null && _log.BeginAddress > FirstLogAddress)
            {
                throw new DataFolderException($"The data folder '{_options.DataPath}' is corrupt: the state snapshot of checkpoint {marker.LastSeq} (state/{Path.GetFileName(StateSnapshot.PathFor(_stateDirectory, marker.LastSeq))}) is missing or cannot be read, and the event log no longer holds the whole history to rebuild it. Restore the folder from a backup, or move it aside to start empty.");
            }
            if (snapshot is null)
            {
                // The store's checkpoint is there but not the state beside it: rebuild that state by replaying the
                // whole log. What the store holds is guarded by the sequence numbers stored with it (exactly once).
                LedgerLog.SnapshotMissing(_logger, marker.LastSeq);
            }
            else
            {
                from = marker.ReplayFrom;
            }
            _seq = marker.LastSeq;
            _appliedSeq = marker.LastSeq;
            _durableSeq = marker.LastSeq;
            _durableCheckpoints.Enqueue(marker);
        }

        var replayed = 0;
        long firstSeq = 0;
        foreach (var (seq, record) in LogReader.Read(_log, _projections.Types, from, ct: ct))
        {
            try
            {
                await ApplyDurablyAsync(record, seq, null, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                LedgerLog.ApplyFailed(_logger, ex, seq, record.GetType().Name);
            }
            firstSeq = firstSeq == 0 ? seq : firstSeq;
            _seq = Math.Max(_seq, seq);
            _appliedSeq = _seq;
            replayed++;
        }
        _committedSeq = _seq;
        _projections.Idle(force: true);
        if (replayed > 0)
        {
            LedgerLog.Replayed(_logger, replayed, firstSeq, _seq, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        lock (_enqueueLock)
        {
            _accepting = true;
        }
        _applier = Task.Run(ApplyLoopAsync, CancellationToken.None);
        if (replayed > 0)
        {
            await CheckpointAsync(ct).ConfigureAwait(false);
        }
        if (_options.CheckpointIntervalSeconds > 0)
        {
            _checkpointer = Task.Run(CheckpointLoopAsync, CancellationToken.None);
        }
    }

    /// <summary>Writes a record durably, applies it, and reports what applying it did.</summary>
    public Task<ApplyOutcome> SubmitAsync(LogRecord record, CancellationToken ct = default) => Submit(record, background: false);

    /// <summary>
    /// <see cref="SubmitAsync"/> for a record nobody waits for (served impressions): it may wait up to
    /// <see cref="LedgerOptions.BackgroundCommitInterval"/> for a commit it shares with others.
    /// </summary>
    public Task<ApplyOutcome> SubmitInBackground(LogRecord record) => Submit(record, background: true);

    private Task<ApplyOutcome> Submit(LogRecord record, bool background)
    {
        var buffer = Serialize(record);
        var pending = new Pending { Record = record, Background = background, Done = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        lock (_enqueueLock)
        {
            if (!_accepting)
            {
                throw new LedgerUnavailableException("The service is not ready for writes.");
            }
            if (_logFailure is { } refused)
            {
                throw new LedgerUnavailableException(refused);
            }
            pending.Seq = ++_seq;
            pending.Epoch = _epoch;
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(), pending.Seq);
            try
            {
                _log.Enqueue(buffer.AsSpan(0, buffer.Length));
            }
            catch (Exception ex)
            {
                // A log whose page could not be written refuses every enqueue from then on.
                _seq--;
                GiveUpLogLocked(ex);
                throw new LedgerUnavailableException(_logFailure!);
            }
            pending.EndAddress = _log.TailAddress;
            _queue.Writer.TryWrite(pending);
        }
        return pending.Done.Task;
    }

    /// <summary>Takes a checkpoint now; true when a new one became durable.</summary>
    public async Task<bool> CheckpointAsync(CancellationToken ct = default)
    {
        var request = new Pending { Checkpoint = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        lock (_enqueueLock)
        {
            if (!_accepting)
            {
                return false;
            }
            request.Seq = _seq;
            request.EndAddress = _log.TailAddress;
            _queue.Writer.TryWrite(request);
        }
        var durable = await (await request.Checkpoint.Task.WaitAsync(ct).ConfigureAwait(false)).ConfigureAwait(false);
        if (durable)
        {
            Checkpointed(new CheckpointMarker(request.EndAddress, request.Seq));
        }
        return durable;
    }

    /// <summary>Stops taking writes, applies what was accepted, and takes a last full checkpoint.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        lock (_enqueueLock)
        {
            if (!_accepting)
            {
                return;
            }
            _accepting = false;
            _queue.Writer.TryComplete();
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _applier.ConfigureAwait(false);
        try
        {
            await _checkpointer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        try
        {
            await _log.CommitAsync(ct).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return; // the host is already tearing down; every acknowledged record was committed before its answer
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LedgerLog.ShutdownCommitFailed(_logger, ex);
            return; // every acknowledged record was committed before its answer; the next start replays them
        }
        if (_options.CheckpointOnShutdown && _seq != _durableSeq && _logFailure is null)
        {
            // Bounded: the log is committed, so a checkpoint that does not finish costs replay time, never data.
            var tail = _log.TailAddress;
            var checkpoint = TakeCheckpoint(_seq, tail, full: true);
            if (await Task.WhenAny(checkpoint, Task.Delay(ShutdownCheckpointTimeout, CancellationToken.None)).ConfigureAwait(false) == checkpoint
                && await checkpoint.ConfigureAwait(false))
            {
                Checkpointed(new CheckpointMarker(tail, _seq));
            }
            else
            {
                LedgerLog.ShutdownCheckpointIncomplete(_logger, ShutdownCheckpointTimeout.TotalSeconds);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _metrics.Dispose();
    }

    private byte[] Serialize(LogRecord record)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        writer.GetSpan(8)[..8].Clear();
        writer.Advance(8);
        _projections.Types.Write(writer, record);
        return writer.WrittenSpan.ToArray();
    }

    private async Task CheckpointLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.CheckpointIntervalSeconds), _time);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            if (Interlocked.Read(ref _seq) == _durableSeq)
            {
                continue;
            }
            try
            {
                await CheckpointAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LedgerLog.CheckpointFailed(_logger, ex);
            }
        }
    }

    private async Task ApplyLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (Volatile.Read(ref _logFailure) is not null)
            {
                if (!await RepairLogAsync().ConfigureAwait(false))
                {
                    RefuseUnappliedOnStop();
                    return;
                }
                continue;
            }
            long end = 0;
            long last = 0;
            var urgent = false;
            var epoch = Volatile.Read(ref _epoch);
            Take(epoch, ref end, ref last, ref urgent);
            if (end > _log.CommittedUntilAddress && !urgent && _work.Count < MaxBatch)
            {
                // Only background records: let more gather until the interval since the last commit is over,
                // or until someone waits.
                var wait = _options.BackgroundCommitInterval - Stopwatch.GetElapsedTime(_lastCommit);
                if (wait > TimeSpan.Zero)
                {
                    using var gathering = new CancellationTokenSource(wait);
                    try
                    {
                        while (!urgent && _work.Count < MaxBatch && await reader.WaitToReadAsync(gathering.Token).ConfigureAwait(false))
                        {
                            Take(epoch, ref end, ref last, ref urgent);
                        }
                    }
                    catch (OperationCanceledException) when (gathering.IsCancellationRequested)
                    {
                    }
                }
            }
            if (end > _log.CommittedUntilAddress)
            {
                _lastCommit = Stopwatch.GetTimestamp();
                try
                {
                    var committing = Stopwatch.GetTimestamp();
                    await _log.CommitAsync().ConfigureAwait(false);
                    LedgerMetrics.Commit.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds);
                }
                catch (Exception ex)
                {
                    // Nothing of this batch was applied or acknowledged: refuse it all and repair the log.
                    string reason;
                    lock (_enqueueLock)
                    {
                        GiveUpLogLocked(ex);
                        reason = _logFailure!;
                    }
                    while (_work.TryDequeue(out var p))
                    {
                        p.Done?.TrySetException(new LedgerUnavailableException(reason));
                        p.Checkpoint?.TrySetResult(Task.FromResult(false));
                    }
                    continue;
                }
            }
            if (last > 0)
            {
                Interlocked.Exchange(ref _committedSeq, Math.Max(Interlocked.Read(ref _committedSeq), last));
            }
            // Records taken in while the store was away join this queue (see WaitForStoreAsync); order is kept.
            while (_work.TryDequeue(out var p))
            {
                if (p.Checkpoint is not null)
                {
                    p.Checkpoint.TrySetResult(TakeCheckpoint(p.Seq, p.EndAddress, full: _checkpoints % _options.IndexCheckpointEvery == 0));
                    continue;
                }
                if (_degraded)
                {
                    p.Done!.TrySetResult(ApplyOutcome.Deferred(p.Record!)); // durable already: answered now, applied when the store is back
                }
                try
                {
                    p.Done!.TrySetResult(await ApplyDurablyAsync(p.Record!, p.Seq, p, _stopping.Token).ConfigureAwait(false));
                    LedgerMetrics.Applied.Add(1, new KeyValuePair<string, object?>("type", p.Record!.GetType().Name));
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    // Stopping while the store is unreachable: the rest stays in the log and is replayed at the next start.
                    _work.Enqueue(p);
                    RefuseUnappliedOnStop();
                    return;
                }
                catch (Exception ex)
                {
                    LedgerLog.ApplyFailed(_logger, ex, p.Seq, p.Record!.GetType().Name);
                    p.Done!.TrySetException(ex);
                }
            }
            _projections.Idle(force: false);
        }
    }

    /// <summary>
    /// The log could not be made durable: refuse writes from now on (the caller holds the enqueue lock).
    /// Records enqueued after the last good commit are not in the log once it is reopened; their sequence
    /// numbers are handed out again.
    /// </summary>
    private void GiveUpLogLocked(Exception ex)
    {
        if (_logFailure is not null)
        {
            return;
        }
        _logFailure = $"The event log cannot be written ({ex.Message}); writes are refused until the disk takes them again.";
        _epoch++;
        _seq = Interlocked.Read(ref _committedSeq);
        // Wakes the applier into its repair: while writes are refused nothing else may be queued (a checkpoint is
        // asked for only when something was written since the last one), and the probe must run all the same.
        _queue.Writer.TryWrite(new Pending());  // neither record nor checkpoint: skipped wherever taken
        LedgerMetrics.WriteRefusals.Add(1);
        LedgerLog.LogFailed(_logger, ex);
    }

    /// <summary>
    /// Run by the applier while writes are refused: answers what is queued, and once a probe write to the
    /// data folder succeeds, reopens the log at its last good commit and takes writes again. False when stopping.
    /// </summary>
    private async Task<bool> RepairLogAsync()
    {
        var attempts = 0;
        while (true)
        {
            while (_queue.Reader.TryRead(out var p))
            {
                p.Done?.TrySetException(new LedgerUnavailableException(WritesRefused ?? "The event log was reopened; send again."));
                p.Checkpoint?.TrySetResult(Task.FromResult(false));
            }
            try
            {
                DurableFiles.Probe(_options.DataPath);
                _log.Reopen();
                lock (_enqueueLock)
                {
                    _seq = Interlocked.Read(ref _committedSeq);
                    _logFailure = null;
                }
                LedgerLog.LogResumed(_logger, attempts);
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (attempts++ % 60 == 0)
                {
                    LedgerLog.LogStillFailing(_logger, ex.Message);
                }
            }
            try
            {
                await Task.Delay(RepairInterval, _time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>A checkpoint became durable: keep the state of it and of the one before (recovery can fall back to that), drop older ones.</summary>
    private void Checkpointed(CheckpointMarker marker)
    {
        _durableSeq = marker.LastSeq;
        lock (_durableCheckpoints)
        {
            _durableCheckpoints.Enqueue(marker);
            while (_durableCheckpoints.Count > 2)
            {
                _durableCheckpoints.Dequeue();
            }
            try
            {
                StateSnapshot.Prune(_stateDirectory, _durableCheckpoints.Peek().LastSeq);
            }
            catch (IOException ex)
            {
                LedgerLog.CheckpointFailed(_logger, ex);
            }
        }
    }

    /// <summary>Answers every record not applied yet (durable, replayed at the next start) and every checkpoint request.</summary>
    private void RefuseUnappliedOnStop()
    {
        var stopping = new LedgerUnavailableException("The service is stopping.");
        while (_work.TryDequeue(out var p) || _queue.Reader.TryRead(out p))
        {
            p.Done?.TrySetException(stopping);
            p.Checkpoint?.TrySetResult(Task.FromResult(false));
        }
    }

    /// <summary>
    /// Waits <paramref name="delay"/> before the next attempt on an unreachable store, meanwhile taking in
    /// new records: they are committed and their callers answered (queued), and they are applied after
    /// the waiting one, in log order. Only the applier calls it.
    /// </summary>
    private async Task WaitForStoreAsync(TimeSpan delay, CancellationToken ct)
    {
        var until = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds((double)(until - _time.GetTimestamp()) / _time.TimestampFrequency);
            if (left <= TimeSpan.Zero)
            {
                return;
            }
            var arrived = _queue.Reader.WaitToReadAsync(ct).AsTask();
            var timer = Task.Delay(left, _time, ct);
            if (await Task.WhenAny(arrived, timer).ConfigureAwait(false) == timer || !await arrived.ConfigureAwait(false))
            {
                await timer.ConfigureAwait(false); // throws when stopping
                return;
            }
            var taken = new List<Pending>();
            var epoch = Volatile.Read(ref _epoch);
            while (_queue.Reader.TryRead(out var item))
            {
                if (item.IsWake)
                {
                    continue;
                }
                if (item.Record is not null && (item.Epoch != epoch || _logFailure is not null))
                {
                    item.Done!.TrySetException(new LedgerUnavailableException(WritesRefused ?? "The event log was reopened; send again."));
                    continue;
                }
                _work.Enqueue(item);
                taken.Add(item);
            }
            if (taken.Count == 0)
            {
                continue;
            }
            try
            {
                await _log.CommitAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // These were not made durable: take them back out of the work queue and refuse them.
                lock (_enqueueLock)
                {
                    GiveUpLogLocked(ex);
                }
                var keep = _work.Where(p => !taken.Contains(p)).ToList();
                _work.Clear();
                foreach (var p in keep)
                {
                    _work.Enqueue(p);
                }
                foreach (var p in taken)
                {
                    p.Done?.TrySetException(new LedgerUnavailableException(_logFailure!));
                    p.Checkpoint?.TrySetResult(Task.FromResult(false));
                }
                continue;
            }
            var lastTaken = taken.Where(p => p.Record is not null).Select(p => p.Seq).DefaultIfEmpty(0).Max();
            Interlocked.Exchange(ref _committedSeq, Math.Max(Interlocked.Read(ref _committedSeq), lastTaken));
            foreach (var p in taken)
            {
                p.Done?.TrySetResult(ApplyOutcome.Deferred(p.Record!));
            }
        }
    }

    /// <summary>
    /// Applies one record until it is applied: a write conflict (another node changed the same state
    /// meanwhile) re-applies it on fresh reads, after a short random pause once it repeats; an unreachable store is waited out with back-off,
    /// keeping log order (the caller of a waiting record is answered at once: it is durable).
    /// </summary>
    private async ValueTask<ApplyOutcome> ApplyDurablyAsync(LogRecord record, long seq, Pending? pending, CancellationToken ct)
    {
        var conflicts = 0;
        var delay = TimeSpan.FromMilliseconds(100);
        var repair = false;
        while (true)
        {
            try
            {
                if (repair)
                {
                    await RepairSinceCheckpointAsync(seq, ct).ConfigureAwait(false);
                    repair = false;
                }
                var outcome = await ApplyAsync(record, seq).ConfigureAwait(false);
                if (_degraded)
                {
                    Volatile.Write(ref _degraded, false);
                    LedgerLog.StoreBack(_logger, seq);
                }
                Interlocked.Exchange(ref _appliedSeq, seq);
                return outcome;
            }
            catch (WriteConflictException)
            {
                // Another node wrote the same key: read again and re-apply. Never given up (the record
                // is durable and must be applied); a growing random pause keeps two busy nodes from
                // colliding on every attempt.
                conflicts++;
                if (conflicts > 2)
                {
                    var ceiling = Math.Min(MaxConflictBackoffMs, 1 << Math.Min(conflicts - 2, 6));
                    // Real time, not the injected clock: this is a pause between two machines, not a business wait.
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, ceiling + 1)), ct).ConfigureAwait(false);
                }
            }
            catch (StoreUnavailableException ex)
            {
                if (!_degraded)
                {
                    Volatile.Write(ref _degraded, true);
                    LedgerLog.StoreUnavailable(_logger, ex, seq);
                }
                pending?.Done?.TrySetResult(ApplyOutcome.Deferred(record));
                repair = pending is not null; // what it acknowledged before the outage may be gone (a failover): re-apply first
                if (pending is null)
                {
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false); // replay at start: nobody else is waiting
                }
                else
                {
                    await WaitForStoreAsync(delay, ct).ConfigureAwait(false);
                }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    /// <summary>
    /// A shared store that comes back from an outage may have lost writes it acknowledged (a Redis master
    /// killed before its replica had them). Before the waiting record, the records since the latest checkpoint
    /// are applied again: each write is guarded by its sequence number, so what the store still holds is
    /// skipped and what it lost is written again. Shared records are left to the change feed, and projections
    /// leave their in-memory state alone (<see cref="ProjectionRegistry.Repairing"/>).
    /// </summary>
    private async Task RepairSinceCheckpointAsync(long beforeSeq, CancellationToken ct)
    {
        var from = Math.Max(LatestCheckpoint?.ReplayFrom ?? _log.BeginAddress, _log.BeginAddress);
        var repaired = 0;
        _projections.Repairing = true;
        try
        {
            foreach (var (seq, record) in LogReader.Read(_log, _projections.Types, from, ct: ct))
            {
                if (seq >= beforeSeq)
                {
                    break;
                }
                if (!_projections.IsShared(record))
                {
                    await ApplyAsync(record, seq).ConfigureAwait(false);
                    repaired++;
                }
            }
        }
        finally
        {
            _projections.Repairing = false;
        }
        LedgerLog.Repaired(_logger, repaired, beforeSeq);
    }

    /// <summary>
    /// Called by the applier between records (or after it stopped): the state now holds exactly the
    /// records up to <paramref name="seq"/>, which all lie before <paramref name="replayFrom"/>.
    /// </summary>
    private Task<bool> TakeCheckpoint(long seq, long replayFrom, bool full)
    {
        var started = Stopwatch.GetTimestamp();
        var parts = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var part in _projections.Parts)
        {
            parts[part.Name] = part.Save();
        }
        Task<bool> durable;
        try
        {
            // The state goes first: a store checkpoint is only ever recovered with the state beside it.
            new StateSnapshot { LastSeq = seq, Parts = parts }.Write(_stateDirectory);
            durable = _store.CheckpointAsync(new CheckpointMarker(replayFrom, seq), full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk: the previous checkpoint stays the one recovery starts from; the log still holds everything since.
            LedgerLog.CheckpointFailed(_logger, ex);
            return Task.FromResult(false);
        }
        _checkpoints++;
        return LogWhenDone(durable, full ? "full" : "log", seq, started);
    }

    private async Task<bool> LogWhenDone(Task<bool> durable, string kind, long seq, long started)
    {
        bool ok;
        try
        {
            ok = await durable.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LedgerLog.CheckpointFailed(_logger, ex);
            return false;
        }
        if (ok)
        {
            LedgerLog.CheckpointTaken(_logger, kind, seq, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return ok;
    }

    private ValueTask<ApplyOutcome> ApplyAsync(LogRecord record, long seq) => _projections.ApplyAsync(record, seq);

    /// <summary>Records applied after one commit, at most.</summary>
    private const int MaxBatch = 4096;

    private long _lastCommit;

    /// <summary>Moves what is queued into the applier's work (records of an older epoch are refused); notes whether someone waits.</summary>
    private void Take(int epoch, ref long end, ref long last, ref bool urgent)
    {
        while (_work.Count < MaxBatch && _queue.Reader.TryRead(out var item))
        {
            if (item.IsWake)
            {
                continue;
            }
            if (item.Record is not null && item.Epoch != epoch)
            {
                item.Done!.TrySetException(new LedgerUnavailableException(WritesRefused ?? "The event log was reopened; send again."));
                continue;
            }
            _work.Enqueue(item);
            end = Math.Max(end, item.EndAddress);
            last = item.Record is null ? last : item.Seq;
            urgent |= !item.Background;
        }
    }

    private sealed class Pending
    {
        public long Seq;
        public int Epoch;
        public long EndAddress;
        public LogRecord? Record;
        /// <summary>Nobody waits for it (<see cref="SubmitInBackground"/>); checkpoint requests are never background.</summary>
        public bool Background;
        public TaskCompletionSource<ApplyOutcome>? Done;
        public TaskCompletionSource<Task<bool>>? Checkpoint;
        /// <summary>Only wakes the applier (into its repair of the log).</summary>
        public bool IsWake => Record is null && Checkpoint is null;
    }
}

/// <summary>The ledger cannot take writes (starting, stopping, or its log failed).</summary>
public sealed class LedgerUnavailableException(string message) : Exception(message);

using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Threading.Channels;
using MessagePack;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Storage;

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
    private readonly IProfileStore _store;
    private readonly CatalogStore _catalog;
    private readonly ConfigurationStore _configuration;
    private readonly TrendingTracker _trending;
    private readonly FoldSettings _fold;
    private readonly PersonalizerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _stateDirectory;
    private readonly string _node;
    private readonly Triggers.TriggerScheduler? _triggers;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _enqueueLock = new();
    private readonly CancellationTokenSource _stopping = new();

    private static readonly TimeSpan ShutdownCheckpointTimeout = TimeSpan.FromSeconds(5);
    private const int MaxConflictBackoffMs = 50;

    private long _seq;
    private long _durableSeq = -1;
    private int _checkpoints;
    private bool _accepting;
    private Task _applier = Task.CompletedTask;
    private readonly Queue<Pending> _work = new(); // the applier's own
    private Task _checkpointer = Task.CompletedTask;

    public Ledger(
        IEventLog log,
        IProfileStore store,
        CatalogStore catalog,
        ConfigurationStore configuration,
        TrendingTracker trending,
        PersonalizerOptions options,
        TimeProvider time,
        ILogger<Ledger> logger,
        Triggers.TriggerScheduler? triggers = null)
    {
        _triggers = triggers;
        _log = log;
        _store = store;
        _catalog = catalog;
        _configuration = configuration;
        _trending = trending;
        _options = options;
        _fold = FoldSettings.From(options.Profiles);
        _time = time;
        _logger = logger;
        _stateDirectory = Path.Combine(options.DataPath, "state");
        _node = store.IsShared ? NodeIdentity.Resolve(options) : "";
    }

    /// <summary>True while the profile store cannot be reached: records wait in the log, in order, and are applied when it returns.</summary>
    public bool StoreDegraded => Volatile.Read(ref _degraded);

    /// <summary>Records written to the log but not yet applied.</summary>
    public long Backlog => Math.Max(0, Interlocked.Read(ref _seq) - Interlocked.Read(ref _appliedSeq));

    private bool _degraded;
    private long _appliedSeq;

    /// <summary>True once recovery and replay are done and writes are accepted.</summary>
    public bool IsReady => Volatile.Read(ref _accepting) && !IsFaulted;

    /// <summary>True when the log could not be committed; writes are refused from then on.</summary>
    public bool IsFaulted { get; private set; }

    /// <summary>Highest sequence number handed out.</summary>
    public long LastSeq => Interlocked.Read(ref _seq);

    public async Task StartAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var marker = await _store.RecoverAsync(ct).ConfigureAwait(false);
        var from = _log.BeginAddress;
        if (marker is not null)
        {
            var snapshot = StateSnapshot.Read(_stateDirectory, marker.LastSeq);
            _catalog.Restore(snapshot.Catalog);
            _configuration.Restore(snapshot.Configuration);
            _trending.Restore(snapshot.Trending);
            _triggers?.Restore(snapshot.PendingMessages);
            from = marker.ReplayFrom;
            _seq = marker.LastSeq;
            _appliedSeq = marker.LastSeq;
            _durableSeq = marker.LastSeq;
        }

        var replayed = 0;
        long firstSeq = 0;
        foreach (var (seq, record) in LogReader.Read(_log, from, appliedOnly: true, ct))
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
                Log.ApplyFailed(_logger, ex, seq, record.GetType().Name);
            }
            firstSeq = firstSeq == 0 ? seq : firstSeq;
            _seq = Math.Max(_seq, seq);
            _appliedSeq = _seq;
            replayed++;
        }
        _trending.Publish(force: true);
        if (replayed > 0)
        {
            Log.Replayed(_logger, replayed, firstSeq, _seq, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
    public Task<ApplyOutcome> SubmitAsync(LogRecord record, CancellationToken ct = default)
    {
        var buffer = Serialize(record);
        var pending = new Pending { Record = record, Done = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        lock (_enqueueLock)
        {
            if (!_accepting || IsFaulted)
            {
                throw new LedgerUnavailableException(IsFaulted ? "The event log failed; writes are refused." : "The service is not ready for writes.");
            }
            pending.Seq = ++_seq;
            BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(), pending.Seq);
            _log.Enqueue(buffer.AsSpan(0, buffer.Length));
            pending.EndAddress = _log.TailAddress;
            _queue.Writer.TryWrite(pending);
        }
        return pending.Done.Task;
    }

    /// <summary>Appends a record that is kept for reports and training but changes no state (sequence 0: never applied).</summary>
    public async ValueTask AppendAsync(LogRecord record, CancellationToken ct = default)
    {
        if (!Volatile.Read(ref _accepting))
        {
            return;
        }
        await _log.EnqueueAsync(Serialize(record), ct).ConfigureAwait(false);
    }

    /// <summary>Makes the appended records durable (and visible to log readers: reports, training) now.</summary>
    public async ValueTask CommitAppendedAsync(CancellationToken ct = default)
    {
        if (Volatile.Read(ref _accepting))
        {
            await _log.CommitAsync(ct).ConfigureAwait(false);
        }
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
            _durableSeq = request.Seq;
            StateSnapshot.Prune(_stateDirectory, request.Seq);
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
        if (_options.CheckpointOnShutdown && _seq != _durableSeq && !IsFaulted)
        {
            // Bounded: the log is committed, so a checkpoint that does not finish costs replay time, never data.
            var checkpoint = TakeCheckpoint(_seq, _log.TailAddress, full: true);
            if (await Task.WhenAny(checkpoint, Task.Delay(ShutdownCheckpointTimeout, CancellationToken.None)).ConfigureAwait(false) == checkpoint
                && await checkpoint.ConfigureAwait(false))
            {
                StateSnapshot.Prune(_stateDirectory, _seq);
            }
            else
            {
                Log.ShutdownCheckpointIncomplete(_logger, ShutdownCheckpointTimeout.TotalSeconds);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static byte[] Serialize(LogRecord record)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        writer.GetSpan(8)[..8].Clear();
        writer.Advance(8);
        MessagePackSerializer.Serialize(writer, record);
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
                Log.CheckpointFailed(_logger, ex);
            }
        }
    }

    private async Task ApplyLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            long end = 0;
            while (_work.Count < 4096 && reader.TryRead(out var item))
            {
                _work.Enqueue(item);
                end = Math.Max(end, item.EndAddress);
            }
            if (end > _log.CommittedUntilAddress)
            {
                try
                {
                    await _log.CommitAsync().ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    IsFaulted = true;
                    while (_work.TryDequeue(out var p))
                    {
                        p.Done?.TrySetException(ex);
                        p.Checkpoint?.TrySetException(ex);
                    }
                    continue;
                }
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
                    Log.ApplyFailed(_logger, ex, p.Seq, p.Record!.GetType().Name);
                    p.Done!.TrySetException(ex);
                }
            }
            _trending.Publish();
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
            while (_queue.Reader.TryRead(out var item))
            {
                _work.Enqueue(item);
                taken.Add(item);
            }
            await _log.CommitAsync(ct).ConfigureAwait(false);
            foreach (var p in taken)
            {
                p.Done?.TrySetResult(ApplyOutcome.Deferred(p.Record!));
            }
        }
    }

    /// <summary>
    /// Applies one record until it is applied: a write conflict (another node changed a profile
    /// meanwhile) re-applies it on fresh reads, after a short random pause once it repeats; an unreachable store is waited out with back-off,
    /// keeping log order (the caller of a waiting record is answered at once: it is durable).
    /// </summary>
    private async ValueTask<ApplyOutcome> ApplyDurablyAsync(LogRecord record, long seq, Pending? pending, CancellationToken ct)
    {
        var conflicts = 0;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var outcome = await ApplyAsync(record, seq).ConfigureAwait(false);
                if (_degraded)
                {
                    Volatile.Write(ref _degraded, false);
                    Log.StoreBack(_logger, seq);
                }
                Interlocked.Exchange(ref _appliedSeq, seq);
                return outcome;
            }
            catch (WriteConflictException)
            {
                // Another node wrote the same profile: read again and re-apply. Never given up (the record
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
                    Log.StoreUnavailable(_logger, ex, seq);
                }
                pending?.Done?.TrySetResult(ApplyOutcome.Deferred(record));
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
    /// Called by the applier between records (or after it stopped): the state now holds exactly the
    /// records up to <paramref name="seq"/>, which all lie before <paramref name="replayFrom"/>.
    /// </summary>
    private Task<bool> TakeCheckpoint(long seq, long replayFrom, bool full)
    {
        var started = Stopwatch.GetTimestamp();
        new StateSnapshot
        {
            LastSeq = seq,
            Catalog = _catalog.Snapshot(),
            Configuration = _configuration.Snapshot(),
            Trending = _trending.Snapshot(),
            PendingMessages = _triggers?.Snapshot() ?? [],
        }.Write(_stateDirectory);
        var durable = _store.CheckpointAsync(new CheckpointMarker(replayFrom, seq), full);
        _checkpoints++;
        return LogWhenDone(durable, full ? "full" : "log", seq, started);
    }

    private async Task<bool> LogWhenDone(Task<bool> durable, string kind, long seq, long started)
    {
        var ok = await durable.ConfigureAwait(false);
        if (ok)
        {
            Log.CheckpointTaken(_logger, kind, seq, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return ok;
    }

    private ValueTask<ApplyOutcome> ApplyAsync(LogRecord record, long seq) => record switch
    {
        EventBatchRecord r => ApplyEventsAsync(r, seq),
        EraseProfileRecord r => EraseAsync(r, seq),
        PreferencesRecord r => SetPreferencesAsync(r, seq),
        CatalogUpsertRecord r => ValueTask.FromResult(SharedStateApplier.Apply(_catalog, r)),
        ConfigChangeRecord r => ValueTask.FromResult(SharedStateApplier.Apply(_configuration, r)),
        _ => ValueTask.FromResult(new ApplyOutcome()),
    };

    private async ValueTask<ApplyOutcome> ApplyEventsAsync(EventBatchRecord r, long seq)
    {
        var site = r.SiteId;
        var catalog = _catalog.Get(site);
        var work = new Working(site, new EventClaim(_node, seq));
        var inRecord = new HashSet<string>(StringComparer.Ordinal);
        var outcome = new ApplyOutcome();
        List<TrackedEvent>? applied = null;
        // Every claim and profile the record touches is read at once: one round trip on a remote store.
        var claims = new ValueTask<EventClaim?>[r.Events.Length];
        for (var i = 0; i < claims.Length; i++)
        {
#pragma warning disable CA2012 // started together, each awaited exactly once below
            claims[i] = _store.GetEventClaimAsync(site, r.Events[i].VisitorId, r.Events[i].EventId);
#pragma warning restore CA2012
        }
        await work.PrefetchAsync(_store, r.Events).ConfigureAwait(false);
        for (var i = 0; i < r.Events.Length; i++)
        {
            var e = r.Events[i];
            var held = await claims[i].ConfigureAwait(false);
            if (!inRecord.Add(e.EventId))
            {
                outcome.Duplicates++;
                continue;
            }
            if (held is { } h && h != work.Claim)
            {
                outcome.Duplicates++;
                continue;
            }
            var profile = await LoadAsync(work, e.VisitorId).ConfigureAwait(false);
            if (profile.Preferences.Tracking == TrackingConsent.Denied)
            {
                outcome.Dropped++; // the visitor refused tracking: counted, never stored
                continue;
            }
            if (AppliedOf(profile) < seq)
            {
                if (profile.VisitorId == e.VisitorId)
                {
                    work.ClaimWithWrite(e.VisitorId, e.EventId);
                }
                else if (held is null && !await _store.ClaimEventAsync(site, e.VisitorId, e.EventId, work.Claim).ConfigureAwait(false))
                {
                    outcome.Duplicates++; // folded into a merged profile, whose write cannot carry this visitor's claim
                    continue;
                }
                if (e.Type == EventType.Identify)
                {
                    await IdentifyAsync(work, e, profile, seq).ConfigureAwait(false);
                }
                else
                {
                    ProfileFolder.Fold(profile, e, catalog, _fold);
                    work.Dirty.Add(profile.VisitorId);
                }
            }
            // else: replaying a record the store already holds for this profile (its claims were written with it)
            outcome.Applied++;
            (applied ??= []).Add(e);
        }
        await work.SaveAsync(_store, this, seq).ConfigureAwait(false);
        // Only once the write stood: a conflict re-runs the record, which must not count twice.
        foreach (var e in applied ?? [])
        {
            RecordTrending(site, e);
            if (_triggers is not null && work.Resolved.TryGetValue(e.VisitorId, out var holder))
            {
                _triggers.Observe(site, e, work.Profiles[holder], catalog);
            }
        }
        return outcome;
    }

    private void RecordTrending(string site, TrackedEvent e)
    {
        var weight = TrendingTracker.Weight(e.Type);
        if (weight <= 0)
        {
            return;
        }
        if (e.Type == EventType.Purchase)
        {
            foreach (var line in e.Lines ?? [])
            {
                _trending.Record(site, line.ItemId, weight, e.Timestamp);
            }
        }
        else if (e.ItemId is not null)
        {
            _trending.Record(site, e.ItemId, weight, e.Timestamp);
        }
    }

    private async ValueTask IdentifyAsync(Working work, TrackedEvent e, VisitorProfile current, long seq)
    {
        var customer = e.CustomerId!;
        var holder = await _store.GetCustomerVisitorAsync(work.Site, customer).ConfigureAwait(false);
        var target = holder is null || holder == current.VisitorId ? null : await LoadExistingAsync(work, holder).ConfigureAwait(false);
        if (target is null || target.VisitorId == current.VisitorId)
        {
            // First identification of this customer (or their profile was erased): this profile holds the view.
            current.CustomerId = customer;
            work.Dirty.Add(current.VisitorId);
            if (holder != current.VisitorId)
            {
                await _store.PutCustomerVisitorAsync(work.Site, customer, current.VisitorId).ConfigureAwait(false);
            }
            return;
        }

        // Another device of a known customer: fold this visitor into the customer's profile and leave a redirect.
        if (AppliedOf(target) < seq)
        {
            ProfileMerger.MergeInto(target, current, _fold);
            target.CustomerId = customer;
            work.Dirty.Add(target.VisitorId);
        }
        var stub = InPlaceOf(current);
        stub.MergedInto = target.VisitorId;
        work.Replace(current.VisitorId, stub, target.VisitorId);
    }

    private async ValueTask<ApplyOutcome> EraseAsync(EraseProfileRecord r, long seq)
    {
        _triggers?.Forget(r.SiteId, r.VisitorId);
        var work = new Working(r.SiteId);
        var stored = await _store.GetAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
        var profile = await LoadExistingAsync(work, r.VisitorId).ConfigureAwait(false);
        if (profile is null)
        {
            if (stored is not null)
            {
                await _store.DeleteAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
            }
            return new ApplyOutcome { Found = stored is not null };
        }
        if (AppliedOf(profile) >= seq)
        {
            return new ApplyOutcome { Found = true }; // a newer profile of the same id: the erasure already happened before it
        }
        await _store.DeleteAsync(r.SiteId, profile.VisitorId).ConfigureAwait(false);
        await _store.DeleteAsync(r.SiteId, r.VisitorId).ConfigureAwait(false);
        foreach (var merged in profile.MergedVisitorIds)
        {
            await _store.DeleteAsync(r.SiteId, merged).ConfigureAwait(false);
        }
        if (profile.CustomerId is { } customer &&
            await _store.GetCustomerVisitorAsync(r.SiteId, customer).ConfigureAwait(false) == profile.VisitorId)
        {
            await _store.DeleteCustomerVisitorAsync(r.SiteId, customer).ConfigureAwait(false);
        }
        return new ApplyOutcome { Found = true, Applied = 1 };
    }

    private async ValueTask<ApplyOutcome> SetPreferencesAsync(PreferencesRecord r, long seq)
    {
        var work = new Working(r.SiteId);
        var profile = await LoadAsync(work, r.VisitorId).ConfigureAwait(false);
        if (AppliedOf(profile) < seq)
        {
            if (r.Preferences.Tracking == TrackingConsent.Denied && profile.Preferences.Tracking != TrackingConsent.Denied)
            {
                _triggers?.Forget(r.SiteId, profile.VisitorId);
                // Tracking refused: the stored behaviour goes; who the visitor is and what they chose stays.
                var erased = InPlaceOf(profile);
                erased.CustomerId = profile.CustomerId;
                erased.MergedVisitorIds = profile.MergedVisitorIds;
                work.Profiles[profile.VisitorId] = erased;
                profile = erased;
            }
            profile.Preferences = r.Preferences;
            work.Dirty.Add(profile.VisitorId);
            await work.SaveAsync(_store, this, seq).ConfigureAwait(false);
        }
        return new ApplyOutcome { Applied = 1, Found = true };
    }

    /// <summary>
    /// An empty profile taking the stored one's place under the same key: it keeps the store's revision
    /// (the write is checked against it) and the applied sequence numbers (replay stays exactly-once).
    /// </summary>
    private static VisitorProfile InPlaceOf(VisitorProfile stored) => new()
    {
        VisitorId = stored.VisitorId,
        Revision = stored.Revision,
        AppliedSeq = stored.AppliedSeq,
        AppliedByNode = stored.AppliedByNode,
    };

    /// <summary>The last of this node's records folded into the profile (exactly-once replay).</summary>
    private long AppliedOf(VisitorProfile profile) =>
        _node.Length == 0 ? profile.AppliedSeq
        : profile.AppliedByNode is { } byNode && byNode.TryGetValue(_node, out var seq) ? seq : 0;

    private void MarkApplied(VisitorProfile profile, long seq)
    {
        if (_node.Length == 0)
        {
            profile.AppliedSeq = seq;
        }
        else
        {
            (profile.AppliedByNode ??= new(StringComparer.Ordinal))[_node] = seq;
        }
    }

    /// <summary>The profile that holds this visitor's view (following merge redirects), or a new one.</summary>
    private async ValueTask<VisitorProfile> LoadAsync(Working work, string visitorId)
    {
        if (await LoadExistingAsync(work, visitorId).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }
        var created = new VisitorProfile { VisitorId = visitorId };
        work.Profiles[visitorId] = created;
        work.Resolved[visitorId] = visitorId;
        return created;
    }

    private async ValueTask<VisitorProfile?> LoadExistingAsync(Working work, string visitorId)
    {
        if (work.Resolved.TryGetValue(visitorId, out var key))
        {
            return work.Profiles[key];
        }
        var id = visitorId;
        VisitorProfile? last = null;
        for (var hop = 0; hop < 8; hop++)
        {
            if (work.Profiles.TryGetValue(id, out var cached))
            {
                if (!cached.IsRedirect)
                {
                    work.Resolved[visitorId] = id;
                    return cached;
                }
                last = cached;
                id = cached.MergedInto!;
                continue;
            }
            var stored = work.Absent.Contains(id) ? null : await _store.GetAsync(work.Site, id).ConfigureAwait(false);
            if (stored is null)
            {
                break;
            }
            work.Profiles[id] = stored;
            if (!stored.IsRedirect)
            {
                work.Resolved[visitorId] = id;
                return stored;
            }
            last = stored;
            id = stored.MergedInto!;
        }
        // A redirect to a profile that was erased: the visitor starts afresh under their own id.
        if (last is not null)
        {
            var fresh = InPlaceOf(work.Profiles[visitorId]);
            work.Profiles[visitorId] = fresh;
            work.Resolved[visitorId] = visitorId;
            work.Dirty.Add(visitorId);
            return fresh;
        }
        return null;
    }

    /// <summary>Profiles loaded while one record is applied; written back once at its end.</summary>
    private sealed class Working(string site, EventClaim claim = default)
    {
        public string Site { get; } = site;
        public EventClaim Claim { get; } = claim;
        /// <summary>Per visitor: the event ids to claim with the write of that visitor's own profile.</summary>
        private readonly Dictionary<string, List<string>> _claims = new(StringComparer.Ordinal);
        public Dictionary<string, VisitorProfile> Profiles { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Resolved { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Dirty { get; } = new(StringComparer.Ordinal);

        public void Replace(string key, VisitorProfile stub, string newHolder)
        {
            Profiles[key] = stub;
            Dirty.Add(key);
            foreach (var (visitor, resolved) in Resolved.ToArray())
            {
                if (resolved == key)
                {
                    Resolved[visitor] = newHolder;
                }
            }
        }

        /// <summary>Visitor ids known to have no stored profile (read by <see cref="PrefetchAsync"/>).</summary>
        public HashSet<string> Absent { get; } = new(StringComparer.Ordinal);

        public async ValueTask PrefetchAsync(IProfileStore store, TrackedEvent[] events)
        {
            var reads = new Dictionary<string, ValueTask<VisitorProfile?>>(StringComparer.Ordinal);
            foreach (var e in events)
            {
                if (!reads.ContainsKey(e.VisitorId))
                {
#pragma warning disable CA2012 // started together, each awaited exactly once below
                    reads[e.VisitorId] = store.GetAsync(Site, e.VisitorId);
#pragma warning restore CA2012
                }
            }
            foreach (var (visitor, read) in reads)
            {
                if (await read.ConfigureAwait(false) is { } profile)
                {
                    Profiles[visitor] = profile;
                }
                else
                {
                    Absent.Add(visitor);
                }
            }
        }

        public void ClaimWithWrite(string visitorId, string eventId)
        {
            if (!_claims.TryGetValue(visitorId, out var ids))
            {
                _claims[visitorId] = ids = [];
            }
            ids.Add(eventId);
        }

        public async ValueTask SaveAsync(IProfileStore store, Ledger ledger, long seq)
        {
            var writes = new List<ValueTask>(Dirty.Count);
            foreach (var key in Dirty)
            {
                var profile = Profiles[key];
                ledger.MarkApplied(profile, seq);
                var claims = _claims.Remove(key, out var ids) ? new EventClaims(Claim, ids) : null;
#pragma warning disable CA2012 // started together, each awaited exactly once below
                writes.Add(store.PutAsync(Site, profile, claims));
#pragma warning restore CA2012
            }
            // All writes are sent before any is awaited; a conflict in one re-runs the record (the others stand, guarded by their applied sequence).
            Exception? failed = null;
            foreach (var write in writes)
            {
                try
                {
                    await write.ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failed ??= ex;
                }
            }
            if (failed is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
            }
            // A visitor whose own profile was not written (not the case today) still gets its claims.
            foreach (var (visitor, ids) in _claims)
            {
                foreach (var eventId in ids)
                {
                    await store.ClaimEventAsync(Site, visitor, eventId, Claim).ConfigureAwait(false);
                }
            }
        }
    }

    private sealed class Pending
    {
        public long Seq;
        public long EndAddress;
        public LogRecord? Record;
        public TaskCompletionSource<ApplyOutcome>? Done;
        public TaskCompletionSource<Task<bool>>? Checkpoint;
    }
}

/// <summary>The ledger cannot take writes (starting, stopping, or its log failed).</summary>
public sealed class LedgerUnavailableException(string message) : Exception(message);

using System.Buffers;
using FASTER.core;
using MessagePack;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Storage.Faster;

using Session = ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>>;

/// <summary>
/// Profiles in an embedded FASTER key-value store: variable-length <see cref="SpanByte"/> keys and
/// MessagePack values, a hybrid log that keeps the hot part in memory and the rest on disk, and
/// CPR checkpoints. A FASTER session is single-threaded, and a CPR checkpoint completes only once every
/// session has moved to the new version; so the store keeps one session behind a gate. An in-memory
/// operation holds the gate for well under a microsecond, and one session can be refreshed while a
/// checkpoint completes (idle pooled sessions would hold it up indefinitely).
/// The gate is taken at once when free and awaited otherwise, never waited for on a thread: an operation
/// that drives a checkpoint phase can block on file I/O whose completion needs a pool thread, and
/// threads parked on a lock behind it would starve the pool that has to complete it. Counters live in the same
/// store, so one checkpoint covers both, and it holds a prefix of the session's writes (CPR).
/// </summary>
public sealed partial class FasterProfileStore : IProfileStore, ICounterStore
{
    private static readonly byte[] MarkerKey = [StoreKeys.Meta, (byte)'c', (byte)'k', (byte)'p', (byte)'t'];
    private static readonly IReadOnlyDictionary<string, double> Empty = new Dictionary<string, double>();

    private FasterKV<SpanByte, SpanByte> _store = null!;
    private WatchedDevice _device = null!;
    private readonly SpanByteFunctions<Empty> _functions = new();
    private Session _session = null!;
    private DeviceLogCommitCheckpointManager _checkpoints = null!;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RevisionCache _revisions = new(1 << 16);
    private readonly string _directory;
    private readonly string _checkpointDir;
    private readonly FasterOptions _options;
    private readonly ILogger _logger;
    private readonly long _memoryPages;
    private readonly IoFaults _checkpointFaults = new();
    private readonly IoFaults _logFaults = new();
    private readonly List<Guid> _keptLogCheckpoints = []; // good ones, oldest first: the newest and the one before
    private readonly List<Guid> _keptIndexCheckpoints = [];
    private Task _checkpoint = Task.CompletedTask;

    public FasterProfileStore(string directory, FasterOptions options, ILogger logger)
    {
        _logger = logger;
        _options = options;
        _directory = directory;
        Directory.CreateDirectory(directory);
        _checkpointDir = Path.Combine(directory, "checkpoints");
        _memoryPages = ((long)options.MemoryMb << 20) / ((long)options.PageKb << 10);
        _compactAbove = (long)options.CompactAboveMb << 20;
        Open();
    }

    /// <summary>
    /// Checkpoints are never removed by FASTER (it deletes the previous one even when the new one could
    /// not be written); this store keeps the last two good ones and removes a checkpoint that met a write error.
    /// </summary>
    private void Open()
    {
        _device = new WatchedDevice(Devices.CreateLogDevice(Path.Combine(_directory, "profiles.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true), _logFaults, readInline: true);
        _checkpoints = new DeviceLogCommitCheckpointManager(new WatchedDeviceFactory(_checkpointFaults), new DefaultCheckpointNamingScheme(_checkpointDir), removeOutdated: false);
        _store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            IndexSize = (long)_options.IndexMb << 20,
            LogDevice = _device,
            MemorySize = (long)_options.MemoryMb << 20,
            PageSize = (long)_options.PageKb << 10,
            MutableFraction = _options.MutableFraction,
            // A snapshot's pages one at a time, from a task of FASTER's own: issued all at once, each is a blocking
            // write-through on a pool thread, and a few hundred of them held every pool thread for seconds.
            ThrottleCheckpointFlushDelayMs = _options.CheckpointPagesOneAtATime ? 0 : -1,
            SegmentSize = Math.Max((long)_options.SegmentMb << 20, (long)_options.PageKb << 10),
            CheckpointManager = _checkpoints,
            RemoveOutdatedCheckpoints = false,
            TryRecoverLatest = false,
        });
        _session = _store.For(_functions).NewSession<SpanByteFunctions<Empty>>();
    }

    private void Close()
    {
        _session.Dispose();
        _store.Dispose();
        _device.Dispose();
        _checkpoints.Dispose();
    }

    /// <summary>Write errors of the profile log itself (not of checkpoints) since start: such a page is never retried by FASTER.</summary>
    public long LogWriteErrors => _logFaults.Count;

    public long MemoryBytes => _store.Log.MemorySizeBytes + (_store.IndexSize + _store.OverflowBucketCount) * 64;

    public bool IsShared => false;

    public bool IsReachable => true;

    public ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default) =>
        Decode<VisitorProfile>(Gated((site, visitorId), static (s, a) => s.ReadProfile(a.site, a.visitorId), ct));

    /// <summary>A profile's bytes; its revision is remembered for the write that usually follows.</summary>
    private (IMemoryOwner<byte>? Owner, int Length) ReadProfile(string site, string visitorId)
    {
        var read = ReadBytes(StoreKeys.Profile, site, visitorId);
        _revisions.Set(site, visitorId, read.Owner is null ? 0 : StoredRevision(read.Owner.Memory[..read.Length]));
        return read;
    }

    public ValueTask PutAsync(string site, VisitorProfile profile, EventClaims? claims = null, CancellationToken ct = default)
    {
        var expected = profile.Revision;
        profile.Revision = expected + 1;
        byte[] value;
        try
        {
            value = MessagePackSerializer.Serialize(profile, cancellationToken: ct);
        }
        finally
        {
            profile.Revision = expected;
        }
        var written = Gated((site, profile, claims, value, expected), static (s, a) => s.PutLocked(a.site, a.profile, a.claims, a.value, a.expected), ct);
        return written.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitAsync(written);
    }

    private bool PutLocked(string site, VisitorProfile profile, EventClaims? claims, byte[] value, long expected)
    {
        var max = StoreKeys.MaxLength(site, profile.VisitorId);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        key = key[..StoreKeys.Write(key, StoreKeys.Profile, site, profile.VisitorId)];
        if (!_revisions.TryGet(site, profile.VisitorId, out var stored))
        {
            var (owner, length) = ReadBytes(key);
            if (owner is not null)
            {
                using (owner)
                {
                    stored = StoredRevision(owner.Memory[..length]);
                }
            }
        }
        if (stored != expected)
        {
            throw new WriteConflictException(site + "/" + profile.VisitorId);
        }
        if (claims is not null)
        {
            // Under the one gate: claims and profile are written together or not at all.
            foreach (var eventId in claims.EventIds)
            {
                if (ReadClaim(site, profile.VisitorId, eventId) is { } held && held != claims.Claim)
                {
                    throw new WriteConflictException($"{site}/{profile.VisitorId} event {eventId}");
                }
            }
            var claimBytes = ClaimBytes(claims.Claim);
            foreach (var eventId in claims.EventIds)
            {
                Write(StoreKeys.EventId, site, EventKeyId(profile.VisitorId, eventId), claimBytes);
            }
        }
        // Forgotten first: a write that fails part-way must not leave the old revision looking current.
        _revisions.Remove(site, profile.VisitorId);
        WriteRaw(key, value);
        _revisions.Set(site, profile.VisitorId, expected + 1);
        profile.Revision = expected + 1;
        return true;
    }

    /// <summary>The revision field of stored profile bytes, read without deserializing the profile.</summary>
    private static long StoredRevision(ReadOnlyMemory<byte> bytes)
    {
        var reader = new MessagePackReader(bytes);
        var count = reader.ReadArrayHeader();
        if (count <= RevisionKey)
        {
            return 0;
        }
        for (var i = 0; i < RevisionKey; i++)
        {
            reader.Skip();
        }
        return reader.TryReadNil() ? 0 : reader.ReadInt64();
    }

    private const int RevisionKey = 23;

    public ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default) =>
        Done(Gated((site, visitorId), static (s, a) =>
        {
            s._revisions.Remove(a.site, a.visitorId);
            return s.Delete(StoreKeys.Profile, a.site, a.visitorId);
        }, ct));

    public ValueTask<EventClaim?> GetEventClaimAsync(string site, string visitorId, string eventId, CancellationToken ct = default) =>
        Gated((site, visitorId, eventId), static (s, a) => s.ReadClaim(a.site, a.visitorId, a.eventId), ct);

    public ValueTask<bool> ClaimEventAsync(string site, string visitorId, string eventId, EventClaim claim, CancellationToken ct = default) =>
        Gated((site, visitorId, eventId, claim), static (s, a) =>
        {
            if (s.ReadClaim(a.site, a.visitorId, a.eventId) is { } held)
            {
                return held == a.claim;
            }
            s.Write(StoreKeys.EventId, a.site, EventKeyId(a.visitorId, a.eventId), ClaimBytes(a.claim));
            return true;
        }, ct);

    /// <summary>Event ids are unique per visitor; '/' is not allowed in ids, so the pair is unambiguous.</summary>
    private static string EventKeyId(string visitorId, string eventId) => visitorId + "/" + eventId;

    private EventClaim? ReadClaim(string site, string visitorId, string eventId)
    {
        var (owner, length) = ReadBytes(StoreKeys.EventId, site, EventKeyId(visitorId, eventId));
        if (owner is null)
        {
            return null;
        }
        using (owner)
        {
            var stored = MessagePackSerializer.Deserialize<StoredClaim>(owner.Memory[..length]);
            return new EventClaim(stored.Node, stored.Seq);
        }
    }

    private static byte[] ClaimBytes(EventClaim claim) =>
        MessagePackSerializer.Serialize(new StoredClaim { Seq = claim.Seq, Node = claim.Node, At = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });

    public ValueTask<string?> GetCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default) =>
        Decode<string>(Gated((site, customerId), static (s, a) => s.ReadBytes(StoreKeys.Customer, a.site, a.customerId), ct));

    public ValueTask PutCustomerVisitorAsync(string site, string customerId, string visitorId, CancellationToken ct = default)
    {
        var value = MessagePackSerializer.Serialize(visitorId, cancellationToken: ct);
        return Done(Gated((site, customerId, value), static (s, a) => s.Write(StoreKeys.Customer, a.site, a.customerId, a.value), ct));
    }

    public ValueTask DeleteCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default) =>
        Done(Gated((site, customerId), static (s, a) => s.Delete(StoreKeys.Customer, a.site, a.customerId), ct));

    public async ValueTask<CheckpointMarker?> RecoverAsync(CancellationToken ct = default)
    {
        if (!_checkpoints.GetLogCheckpointTokens().Any())
        {
            return null;
        }
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        StoredMarker? marker;
        try
        {
            _revisions.Clear();
            marker = RecoverLocked();
        }
        finally
        {
            _gate.Release();
        }
        if (marker is not null)
        {
            Log.StoreRecovered(_logger, marker.ReplayFrom, marker.LastSeq);
        }
        return marker is null ? null : new CheckpointMarker(marker.ReplayFrom, marker.LastSeq);
    }

    /// <summary>
    /// Returns to the newest checkpoint that can be read; one that cannot (cut short by a full disk, say) is
    /// moved aside to <c>checkpoints/unusable</c> and the one before is tried: the ledger then replays more of the log.
    /// </summary>
    private StoredMarker? RecoverLocked()
    {
        var failures = new List<string>();
        while (true)
        {
            _store.GetLatestCheckpointTokens(out var logToken, out var indexToken);
            if (logToken == default)
            {
                if (failures.Count == 0)
                {
                    // Checkpoint folders whose metadata cannot be read at all (a first checkpoint cut short): none
                    // to recover. The ledger replays the whole log, and refuses to start when the log is no longer whole.
                    foreach (var token in _checkpoints.GetLogCheckpointTokens().ToList())
                    {
                        Log.CheckpointUnusable(_logger, null, token);
                        SetAside(token);
                    }
                    return null;
                }
                throw new DataFolderException($"The profile store in '{_directory}' is corrupt: none of its checkpoints can be recovered ({string.Join("; ", failures)}). Restore the data folder from a backup, or move it aside to start empty.");
            }
            try
            {
                // Records written after the checkpoint's version are undone: the store comes back exactly as checkpointed.
                // Preload as much of the log as the memory budget holds: a read that goes to disk would park a
                // request on I/O, so a store that fits in memory should start in memory.
                _store.Recover(numPagesToPreload: (int)Math.Max(0, _memoryPages - 2));
                var marker = Decode<StoredMarker>(ReadBytes(MarkerKey));
                _keptLogCheckpoints.Add(logToken);
                if (indexToken != default)
                {
                    _keptIndexCheckpoints.Add(indexToken);
                }
                return marker;
            }
            catch (Exception ex) when (ex is FasterException or IOException or InvalidOperationException or MessagePackSerializationException or ArgumentException or IndexOutOfRangeException)
            {
                failures.Add($"{logToken}: {ex.Message}");
                Log.CheckpointUnusable(_logger, ex, logToken);
                Close();
                SetAside(logToken);
                Open();
            }
        }
    }

    private void SetAside(Guid token)
    {
        var aside = Path.Combine(_checkpointDir, "unusable");
        Directory.CreateDirectory(aside);
        foreach (var folder in new[] { "cpr-checkpoints", "index-checkpoints" })
        {
            var source = Path.Combine(_checkpointDir, folder, token.ToString());
            if (Directory.Exists(source))
            {
                Directory.Move(source, Path.Combine(aside, $"{folder}-{token}"));
            }
        }
    }

    public async Task<bool> CheckpointAsync(CheckpointMarker marker, bool full, CancellationToken ct = default)
    {
        var bytes = MessagePackSerializer.Serialize(new StoredMarker { ReplayFrom = marker.ReplayFrom, LastSeq = marker.LastSeq }, cancellationToken: ct);
        Task<(bool Success, Guid Token)> checkpoint;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            // The marker must not slip into a checkpoint that is still running: it would claim more than that one holds.
            if (!_checkpoint.IsCompleted)
            {
                return false;
            }
            WriteRaw(MarkerKey, bytes);
            // Initiated synchronously inside these calls, so every write completed before is part of it.
            var faults = _checkpointFaults.Count;
            var incremental = !full && IncrementalAllowed();
            var readOnlyAtStart = _store.Log.ReadOnlyAddress;
            var deltaTail = _store.IncrementalSnapshotTailAddress;
            checkpoint = full
                ? _store.TakeFullCheckpointAsync(CheckpointType.Snapshot, ct).AsTask()
                : _store.TakeHybridLogCheckpointAsync(CheckpointType.Snapshot, tryIncremental: incremental, cancellationToken: ct).AsTask();
            _checkpoint = CompleteAsync(checkpoint, full, faults, readOnlyAtStart, deltaTail);
        }
        finally
        {
            _gate.Release();
        }
        return await ((Task<bool>)_checkpoint).ConfigureAwait(false);
    }

    private async Task<bool> CompleteAsync(Task<(bool Success, Guid Token)> checkpoint, bool full, long faultsBefore, long readOnlyAtStart, long deltaTail)
    {
        while (!checkpoint.IsCompleted)
        {
            await Task.WhenAny(checkpoint, Task.Delay(1)).ConfigureAwait(false);
            await _gate.WaitAsync().ConfigureAwait(false);
            try
            {
                _session.Refresh();
            }
            finally
            {
                _gate.Release();
            }
        }
        var (success, token) = await checkpoint.ConfigureAwait(false);
        // An incremental snapshot keeps the token of the full snapshot it appends its delta to.
        var delta = _keptLogCheckpoints.Count > 0 && _keptLogCheckpoints[^1] == token;
        Log.StoreCheckpoint(_logger, token, delta ? "delta" : full ? "full" : "snapshot", _store.CurrentVersion,
            !success ? "not taken" : _checkpointFaults.Count != faultsBefore ? "write failed" : "written");
        if (!success)
        {
            _fullSnapshotNext = true;
            return false;
        }
        if (_checkpointFaults.Count != faultsBefore)
        {
            // FASTER reported success, but a write of this checkpoint failed: it must never be recovered. A full
            // snapshot of its own is removed; a failed delta is cut off its base's delta file, which then ends where
            // the delta before ended. Either way, no delta is appended until a full snapshot stands.
            Log.CheckpointWriteFailed(_logger, token, _checkpointFaults.LastError);
            _fullSnapshotNext = true;
            if (delta)
            {
                CutDelta(token, deltaTail);
            }
            else
            {
                _checkpoints.Purge(token);
            }
            return false;
        }
        if (delta)
        {
            return true;
        }
        _fullSnapshotNext = false;
        _snapshotReadOnlyFrom = readOnlyAtStart;
        if (Interlocked.Exchange(ref _compactedSinceCheckpoint, 0) == 1)
        {
            // This checkpoint deleted the log files before the compacted start, which older checkpoints still
            // point into: only this one can be recovered now (the next one restores the fallback).
            _keptLogCheckpoints.Clear();
            _keptIndexCheckpoints.Clear();
        }
        Keep(_keptLogCheckpoints, token, index: false);
        if (full)
        {
            Keep(_keptIndexCheckpoints, token, index: true);
        }
        return true;
    }

    /// <summary>
    /// Cuts a failed delta off the delta file of its base. FASTER appends a delta's records and then its metadata to one
    /// file whatever became of the writes before, and recovery skips a block it cannot read and takes the last metadata
    /// it can: on a nearly full disk a large write of records failed while the small metadata write beside it went
    /// through, and the delta came back with records missing (a visitor's page views lost in `DiskFullTests`). The
    /// file is cut back to where the delta before ended; nothing is appended to it again.
    /// </summary>
    private void CutDelta(Guid token, long end)
    {
        var folder = Path.Combine(_checkpointDir, "cpr-checkpoints", token.ToString());
        try
        {
            foreach (var path in Directory.EnumerateFiles(folder, "delta.dat*"))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                // A delta file is one file (FASTER opens it without segments): ".0".
                file.SetLength(path.EndsWith(".0", StringComparison.Ordinal) ? Math.Min(file.Length, end) : 0);
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Cutting a file frees space and does not fail on a full disk; should it fail, recovery must not use the
            // base: the checkpoint before it (or a replay of the log) is the one to start from.
            Log.CheckpointUnusable(_logger, ex, token);
            _checkpoints.Purge(token);
            _keptLogCheckpoints.Remove(token);
        }
    }

    /// <summary>
    /// Whether the next log checkpoint may be a delta over the last full snapshot (records changed or added since),
    /// rather than a copy of the whole in-memory log. A full snapshot is taken instead after a failed checkpoint,
    /// after a compaction or purge (the old snapshot would hold dropped or erased bytes, and point into deleted
    /// files), once the log's read-only part has grown since the snapshot began (<see cref="_snapshotReadOnlyFrom"/>), and once
    /// the deltas reach <see cref="DeltaFraction"/> of the log's in-memory size (recovery replays every delta, and the
    /// base keeps the space of what they replaced).
    /// </summary>
    private bool IncrementalAllowed() =>
        !_fullSnapshotNext
        && _store.Log.ReadOnlyAddress <= _snapshotReadOnlyFrom
        && Volatile.Read(ref _compactedSinceCheckpoint) == 0
        && _store.IncrementalSnapshotTailAddress < (long)(DeltaFraction * (_store.Log.TailAddress - _store.Log.HeadAddress));

    private const double DeltaFraction = 0.5;
    private bool _fullSnapshotNext = true;

    /// <summary>
    /// Where the log's read-only part ended when the last full snapshot began. A delta holds only the records
    /// changed in the part of the log not yet written to the log file, and recovery reads the snapshot's range from
    /// the snapshot. Once the read-only boundary moves past this address, a profile changed in place after the
    /// snapshot can be written out with its page before the next checkpoint: it is then in no delta, and a delta
    /// would recover it as the snapshot had it. So from then on the next log checkpoint is a snapshot of its own.
    /// (Pages read-only before the snapshot never change, so their being written later loses nothing.)
    /// </summary>
    private long _snapshotReadOnlyFrom;

    /// <summary>Keeps the new checkpoint and the one before it; removes every older one of its kind.</summary>
    private void Keep(List<Guid> kept, Guid token, bool index)
    {
        kept.Add(token);
        while (kept.Count > 2)
        {
            kept.RemoveAt(0);
        }
        var folder = Path.Combine(_checkpointDir, index ? "index-checkpoints" : "cpr-checkpoints");
        var existing = index ? _checkpoints.GetIndexCheckpointTokens() : _checkpoints.GetLogCheckpointTokens();
        foreach (var old in existing.ToList())
        {
            if (!kept.Contains(old))
            {
                Directory.Delete(Path.Combine(folder, old.ToString()), recursive: true);
            }
        }
    }

    public ValueTask AddAsync(string site, IReadOnlyCollection<CounterDelta> deltas, string node, long seq, CancellationToken ct = default) =>
        Done(Gated((site, deltas, seq), static (s, a) =>
        {
            foreach (var delta in a.deltas)
            {
                var bag = Decode<StoredCounters>(s.ReadBytes(StoreKeys.Counter, a.site, delta.Key)) ?? new StoredCounters();
                if (bag.AppliedSeq >= a.seq)
                {
                    continue; // this record is in the bag already (replay after a checkpoint that holds it)
                }
                foreach (var (field, value) in delta.Fields)
                {
                    bag.Fields.TryGetValue(field, out var current);
                    bag.Fields[field] = current + value;
                }
                bag.AppliedSeq = a.seq;
                s.Write(StoreKeys.Counter, a.site, delta.Key, MessagePackSerializer.Serialize(bag));
            }
            return true;
        }, ct));

    public async ValueTask<IReadOnlyDictionary<string, double>[]> ReadAsync(string site, IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var bags = new IReadOnlyDictionary<string, double>[keys.Count];
        for (var i = 0; i < bags.Length; i++)
        {
            bags[i] = (await Decode<StoredCounters>(Gated((site, key: keys[i]), static (s, a) => s.ReadBytes(StoreKeys.Counter, a.site, a.key), ct)).ConfigureAwait(false))?.Fields ?? Empty;
        }
        return bags;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _checkpoint.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.CheckpointFailedOnClose(_logger, ex);
        }
        Close();
        _gate.Dispose();
    }

    /// <summary>Runs <paramref name="operation"/> holding the gate: at once when it is free, else after an asynchronous wait.</summary>
    private ValueTask<T> Gated<TState, T>(TState state, Func<FasterProfileStore, TState, T> operation, CancellationToken ct)
    {
        if (_gate.Wait(0, ct))
        {
            try
            {
                return ValueTask.FromResult(operation(this, state));
            }
            finally
            {
                _gate.Release();
            }
        }
        return GatedAsync(state, operation, ct);
    }

    private async ValueTask<T> GatedAsync<TState, T>(TState state, Func<FasterProfileStore, TState, T> operation, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return operation(this, state);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static ValueTask Done<T>(ValueTask<T> operation) => operation.IsCompletedSuccessfully ? ValueTask.CompletedTask : AwaitAsync(operation);

    private static async ValueTask AwaitAsync<T>(ValueTask<T> operation) => await operation.ConfigureAwait(false);

    /// <summary>Deserialized once the gate is released: the gate covers FASTER's part only.</summary>
    private static ValueTask<T?> Decode<T>(ValueTask<(IMemoryOwner<byte>? Owner, int Length)> read) =>
        read.IsCompletedSuccessfully ? ValueTask.FromResult(Decode<T>(read.Result)) : DecodeAsync<T>(read);

    private static async ValueTask<T?> DecodeAsync<T>(ValueTask<(IMemoryOwner<byte>? Owner, int Length)> read) => Decode<T>(await read.ConfigureAwait(false));

    private static T? Decode<T>((IMemoryOwner<byte>? Owner, int Length) read)
    {
        if (read.Owner is null)
        {
            return default;
        }
        using (read.Owner)
        {
            return MessagePackSerializer.Deserialize<T>(read.Owner.Memory[..read.Length]);
        }
    }

    // Below: FASTER operations; the caller holds the gate.

    private (IMemoryOwner<byte>? Owner, int Length) ReadBytes(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        return ReadBytes(key[..StoreKeys.Write(key, kind, site, id)]);
    }

    private (IMemoryOwner<byte>? Owner, int Length) ReadBytes(ReadOnlySpan<byte> key) => ReadBytes(key, out _);

    /// <summary>The latest value of <paramref name="key"/>, and the log address of the record it was read from.</summary>
    private (IMemoryOwner<byte>? Owner, int Length) ReadBytes(ReadOnlySpan<byte> key, out long address)
    {
        ReadOptions options = default;
        var status = Read(key, ref options, out var output, out var metadata, out _);
        address = metadata.Address;
        if (!status.Found || output.IsSpanByte)
        {
            output.Memory?.Dispose();
            return (null, 0);
        }
        return (output.Memory, output.Length);
    }

    /// <summary>One read of <paramref name="key"/>, completed if it went to the log file (<paramref name="pending"/>).</summary>
    private unsafe Status Read(ReadOnlySpan<byte> key, ref ReadOptions options, out SpanByteAndMemory output, out RecordMetadata metadata, out bool pending)
    {
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            SpanByte input = default;
            output = default;
            var status = _session.Read(ref keySpan, ref input, ref output, ref options, out metadata);
            pending = status.IsPending;
            if (pending)
            {
                _session.CompletePendingWithOutputs(out var completed, wait: true);
                using (completed)
                {
                    if (completed.Next())
                    {
                        status = completed.Current.Status;
                        output = completed.Current.Output;
                        metadata = completed.Current.RecordMetadata;
                    }
                }
            }
            return status;
        }
    }

    private bool Write(byte kind, string site, string id, byte[] value)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        WriteRaw(key[..StoreKeys.Write(key, kind, site, id)], value);
        return true;
    }

    private unsafe void WriteRaw(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var keySpan = SpanByte.FromPointer(k, key.Length);
            var valueSpan = SpanByte.FromPointer(v, value.Length);
            var status = _session.Upsert(ref keySpan, ref valueSpan);
            if (status.IsPending)
            {
                _session.CompletePending(wait: true);
            }
        }
    }

    private unsafe bool Delete(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = StoreKeys.Write(key, kind, site, id);
        fixed (byte* k = key)
        {
            var keySpan = SpanByte.FromPointer(k, length);
            var status = _session.Delete(ref keySpan);
            if (status.IsPending)
            {
                _session.CompletePending(wait: true);
            }
        }
        return true;
    }

    /// <summary>A counter bag: its numbers, and the last record added (this store has one writer, so one sequence).</summary>
    [MessagePackObject]
    public sealed class StoredCounters
    {
        [Key(0)] public Dictionary<string, double> Fields { get; set; } = new(StringComparer.Ordinal);
        [Key(1)] public long AppliedSeq { get; set; }
    }

    [MessagePackObject]
    public sealed class StoredClaim
    {
        [Key(0)] public long Seq { get; set; }
        [Key(1)] public string Node { get; set; } = "";

        /// <summary>When the claim was made (Unix ms; 0 in claims of older builds, which expire at the first compaction).</summary>
        [Key(2)] public long At { get; set; }
    }

    [MessagePackObject]
    public sealed class StoredMarker
    {
        [Key(0)] public long ReplayFrom { get; set; }
        [Key(1)] public long LastSeq { get; set; }
    }
}

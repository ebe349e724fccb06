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
/// session has moved to the new version; so the store keeps one session behind a lock. An in-memory
/// operation holds the lock for well under a microsecond, and one session can be refreshed while a
/// checkpoint completes (idle pooled sessions would hold it up indefinitely). Counters live in the same
/// store, so one checkpoint covers both, and it holds a prefix of the session's writes (CPR).
/// </summary>
public sealed class FasterProfileStore : IProfileStore, ICounterStore
{
    private static readonly byte[] MarkerKey = [StoreKeys.Meta, (byte)'c', (byte)'k', (byte)'p', (byte)'t'];

    private readonly FasterKV<SpanByte, SpanByte> _store;
    private readonly IDevice _device;
    private readonly SpanByteFunctions<Empty> _functions = new();
    private readonly Session _session;
    private readonly Lock _gate = new();
    private readonly string _checkpointDir;
    private readonly ILogger _logger;
    private readonly Lock _checkpointLock = new();
    private Task _checkpoint = Task.CompletedTask;

    public FasterProfileStore(string directory, FasterOptions options, ILogger logger)
    {
        _logger = logger;
        Directory.CreateDirectory(directory);
        _checkpointDir = Path.Combine(directory, "checkpoints");
        _device = Devices.CreateLogDevice(Path.Combine(directory, "profiles.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);
        _store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            IndexSize = (long)options.IndexMb << 20,
            LogDevice = _device,
            MemorySize = (long)options.MemoryMb << 20,
            PageSize = (long)options.PageKb << 10,
            CheckpointDir = _checkpointDir,
            RemoveOutdatedCheckpoints = true,
            TryRecoverLatest = false,
        });
        _session = _store.For(_functions).NewSession<SpanByteFunctions<Empty>>();
        _memoryPages = ((long)options.MemoryMb << 20) / ((long)options.PageKb << 10);
    }

    private readonly long _memoryPages;

    public long MemoryBytes => _store.Log.MemorySizeBytes + (_store.IndexSize + _store.OverflowBucketCount) * 64;

    public ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default) =>
        ValueTask.FromResult(Read<VisitorProfile>(StoreKeys.Profile, site, visitorId));

    public bool IsShared => false;

    public bool IsReachable => true;

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
        var max = StoreKeys.MaxLength(site, profile.VisitorId);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        key = key[..StoreKeys.Write(key, StoreKeys.Profile, site, profile.VisitorId)];
        lock (_gate)
        {
            var (owner, length) = ReadBytes(key);
            var stored = 0L;
            if (owner is not null)
            {
                using (owner)
                {
                    stored = StoredRevision(owner.Memory[..length]);
                }
            }
            if (stored != expected)
            {
                throw new WriteConflictException(site + "/" + profile.VisitorId);
            }
            if (claims is not null)
            {
                // Under the one lock: claims and profile are written together or not at all.
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
            WriteRaw(key, value);
        }
        profile.Revision = expected + 1;
        return ValueTask.CompletedTask;
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

    public ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default)
    {
        Delete(StoreKeys.Profile, site, visitorId);
        return ValueTask.CompletedTask;
    }

    public ValueTask<EventClaim?> GetEventClaimAsync(string site, string visitorId, string eventId, CancellationToken ct = default) =>
        ValueTask.FromResult(ReadClaim(site, visitorId, eventId));

    public ValueTask<bool> ClaimEventAsync(string site, string visitorId, string eventId, EventClaim claim, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (ReadClaim(site, visitorId, eventId) is { } held)
            {
                return ValueTask.FromResult(held == claim);
            }
            Write(StoreKeys.EventId, site, EventKeyId(visitorId, eventId), ClaimBytes(claim));
            return ValueTask.FromResult(true);
        }
    }

    /// <summary>Event ids are unique per visitor; '/' is not allowed in ids, so the pair is unambiguous.</summary>
    private static string EventKeyId(string visitorId, string eventId) => visitorId + "/" + eventId;

    private EventClaim? ReadClaim(string site, string visitorId, string eventId)
    {
        var id = EventKeyId(visitorId, eventId);
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        var (owner, length) = ReadBytes(key[..StoreKeys.Write(key, StoreKeys.EventId, site, id)]);
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

    private static byte[] ClaimBytes(EventClaim claim) => MessagePackSerializer.Serialize(new StoredClaim { Seq = claim.Seq, Node = claim.Node });

    public ValueTask<string?> GetCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default) =>
        ValueTask.FromResult(Read<string>(StoreKeys.Customer, site, customerId));

    public ValueTask PutCustomerVisitorAsync(string site, string customerId, string visitorId, CancellationToken ct = default)
    {
        Write(StoreKeys.Customer, site, customerId, MessagePackSerializer.Serialize(visitorId, cancellationToken: ct));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default)
    {
        Delete(StoreKeys.Customer, site, customerId);
        return ValueTask.CompletedTask;
    }

    public ValueTask<CheckpointMarker?> RecoverAsync(CancellationToken ct = default)
    {
        if (!Directory.Exists(_checkpointDir) || !Directory.EnumerateFileSystemEntries(_checkpointDir).Any())
        {
            return ValueTask.FromResult<CheckpointMarker?>(null);
        }
        // Records written after the checkpoint's version are undone: the store comes back exactly as checkpointed.
        // Preload as much of the log as the memory budget holds: a read that goes to disk would park a
        // request (and its thread) on I/O, so a store that fits in memory should start in memory.
        _store.Recover(numPagesToPreload: (int)Math.Max(0, _memoryPages - 2));
        var marker = ReadRaw<StoredMarker>(MarkerKey);
        if (marker is not null)
        {
            Log.StoreRecovered(_logger, marker.ReplayFrom, marker.LastSeq);
        }
        return ValueTask.FromResult(marker is null ? null : new CheckpointMarker(marker.ReplayFrom, marker.LastSeq));
    }

    public Task<bool> CheckpointAsync(CheckpointMarker marker, bool full, CancellationToken ct = default)
    {
        lock (_checkpointLock)
        {
            // The marker must not slip into a checkpoint that is still running: it would claim more than that one holds.
            if (!_checkpoint.IsCompleted)
            {
                return Task.FromResult(false);
            }
            WriteRaw(MarkerKey, MessagePackSerializer.Serialize(new StoredMarker { ReplayFrom = marker.ReplayFrom, LastSeq = marker.LastSeq }, cancellationToken: ct));
            Task<(bool Success, Guid Token)> checkpoint;
            lock (_gate)
            {
                // Initiated synchronously inside these calls, so every write completed before is part of it.
                checkpoint = full
                    ? _store.TakeFullCheckpointAsync(CheckpointType.Snapshot, ct).AsTask()
                    : _store.TakeHybridLogCheckpointAsync(CheckpointType.Snapshot, cancellationToken: ct).AsTask();
            }
            var completion = CompleteAsync(checkpoint);
            _checkpoint = completion;
            return completion;
        }
    }

    private async Task<bool> CompleteAsync(Task<(bool Success, Guid Token)> checkpoint)
    {
        while (!checkpoint.IsCompleted)
        {
            lock (_gate)
            {
                _session.Refresh();
            }
            await Task.WhenAny(checkpoint, Task.Delay(1)).ConfigureAwait(false);
        }
        return (await checkpoint.ConfigureAwait(false)).Success;
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
        _session.Dispose();
        _store.Dispose();
        _device.Dispose();
    }

    private T? Read<T>(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        return ReadRaw<T>(key[..StoreKeys.Write(key, kind, site, id)]);
    }

    private T? ReadRaw<T>(ReadOnlySpan<byte> key)
    {
        var (owner, length) = ReadBytes(key);
        if (owner is null)
        {
            return default;
        }
        using (owner)
        {
            // Deserialized outside the lock: the lock covers FASTER's part only.
            return MessagePackSerializer.Deserialize<T>(owner.Memory[..length]);
        }
    }

    private unsafe (IMemoryOwner<byte>? Owner, int Length) ReadBytes(ReadOnlySpan<byte> key)
    {
        lock (_gate)
        {
            fixed (byte* k = key)
            {
                var keySpan = SpanByte.FromPointer(k, key.Length);
                SpanByteAndMemory output = default;
                var status = _session.Read(ref keySpan, ref output);
                if (status.IsPending)
                {
                    _session.CompletePendingWithOutputs(out var completed, wait: true);
                    using (completed)
                    {
                        if (completed.Next())
                        {
                            status = completed.Current.Status;
                            output = completed.Current.Output;
                        }
                    }
                }
                if (!status.Found || output.IsSpanByte)
                {
                    output.Memory?.Dispose();
                    return (null, 0);
                }
                return (output.Memory, output.Length);
            }
        }
    }

    private void Write(byte kind, string site, string id, byte[] value)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        WriteRaw(key[..StoreKeys.Write(key, kind, site, id)], value);
    }

    private unsafe void WriteRaw(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        lock (_gate)
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
    }

    private unsafe void Delete(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = StoreKeys.Write(key, kind, site, id);
        lock (_gate)
        {
            fixed (byte* k = key)
            {
                var keySpan = SpanByte.FromPointer(k, length);
                var status = _session.Delete(ref keySpan);
                if (status.IsPending)
                {
                    _session.CompletePending(wait: true);
                }
            }
        }
    }

    public ValueTask AddAsync(string site, IReadOnlyCollection<CounterDelta> deltas, string node, long seq, CancellationToken ct = default)
    {
        lock (_gate)
        {
            foreach (var delta in deltas)
            {
                var bag = Read<StoredCounters>(StoreKeys.Counter, site, delta.Key) ?? new StoredCounters();
                if (bag.AppliedSeq >= seq)
                {
                    continue; // this record is in the bag already (replay after a checkpoint that holds it)
                }
                foreach (var (field, value) in delta.Fields)
                {
                    bag.Fields.TryGetValue(field, out var current);
                    bag.Fields[field] = current + value;
                }
                bag.AppliedSeq = seq;
                Write(StoreKeys.Counter, site, delta.Key, MessagePackSerializer.Serialize(bag, cancellationToken: ct));
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyDictionary<string, double>[]> ReadAsync(string site, IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var bags = new IReadOnlyDictionary<string, double>[keys.Count];
        for (var i = 0; i < bags.Length; i++)
        {
            bags[i] = Read<StoredCounters>(StoreKeys.Counter, site, keys[i])?.Fields ?? Empty;
        }
        return ValueTask.FromResult(bags);
    }

    private static readonly IReadOnlyDictionary<string, double> Empty = new Dictionary<string, double>();

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
    }

    [MessagePackObject]
    public sealed class StoredMarker
    {
        [Key(0)] public long ReplayFrom { get; set; }
        [Key(1)] public long LastSeq { get; set; }
    }
}

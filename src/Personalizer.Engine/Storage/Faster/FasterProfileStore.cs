using System.Buffers;
using System.Collections.Concurrent;
using FASTER.core;
using MessagePack;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Storage.Faster;

using Session = ClientSession<SpanByte, SpanByte, SpanByte, SpanByteAndMemory, Empty, SpanByteFunctions<Empty>>;

/// <summary>
/// Profiles in an embedded FASTER key-value store: variable-length <see cref="SpanByte"/> keys and
/// MessagePack values, a hybrid log that keeps the hot part in memory and the rest on disk, and
/// CPR checkpoints. A FASTER session is single-threaded, so sessions are pooled and each call borrows one.
/// </summary>
public sealed class FasterProfileStore : IProfileStore
{
    private static readonly byte[] MarkerKey = [StoreKeys.Meta, (byte)'c', (byte)'k', (byte)'p', (byte)'t'];

    private readonly FasterKV<SpanByte, SpanByte> _store;
    private readonly IDevice _device;
    private readonly SpanByteFunctions<Empty> _functions = new();
    private readonly ConcurrentBag<Session> _sessions = [];
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
    }

    public long MemoryBytes => _store.Log.MemorySizeBytes + (_store.IndexSize + _store.OverflowBucketCount) * 64;

    public ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default) =>
        ValueTask.FromResult(Read<VisitorProfile>(StoreKeys.Profile, site, visitorId));

    public ValueTask PutAsync(string site, VisitorProfile profile, CancellationToken ct = default)
    {
        Write(StoreKeys.Profile, site, profile.VisitorId, MessagePackSerializer.Serialize(profile, cancellationToken: ct));
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default)
    {
        Delete(StoreKeys.Profile, site, visitorId);
        return ValueTask.CompletedTask;
    }

    public ValueTask<long?> GetEventSeqAsync(string site, string eventId, CancellationToken ct = default) =>
        ValueTask.FromResult(Read<long?>(StoreKeys.EventId, site, eventId));

    public ValueTask PutEventSeqAsync(string site, string eventId, long seq, CancellationToken ct = default)
    {
        Write(StoreKeys.EventId, site, eventId, MessagePackSerializer.Serialize<long?>(seq, cancellationToken: ct));
        return ValueTask.CompletedTask;
    }

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
        _store.Recover();
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
            // Initiated synchronously, so every write completed before this call is part of it.
            var started = full
                ? _store.TryInitiateFullCheckpoint(out _, CheckpointType.Snapshot)
                : _store.TryInitiateHybridLogCheckpoint(out _, CheckpointType.Snapshot);
            if (!started)
            {
                return Task.FromResult(false);
            }
            var completion = CompleteAsync(ct);
            _checkpoint = completion;
            return completion;
        }
    }

    private async Task<bool> CompleteAsync(CancellationToken ct)
    {
        await _store.CompleteCheckpointAsync(ct).ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _checkpoint.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.CheckpointFailedOnClose(_logger, ex);
        }
        while (_sessions.TryTake(out var s))
        {
            s.Dispose();
        }
        _store.Dispose();
        _device.Dispose();
    }

    private Session Rent() => _sessions.TryTake(out var s)
        ? s
        : _store.For(_functions).NewSession<SpanByteFunctions<Empty>>();

    private void Return(Session s) => _sessions.Add(s);

    private T? Read<T>(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        return ReadRaw<T>(key[..StoreKeys.Write(key, kind, site, id)]);
    }

    private unsafe T? ReadRaw<T>(ReadOnlySpan<byte> key)
    {
        var session = Rent();
        try
        {
            fixed (byte* k = key)
            {
                var keySpan = SpanByte.FromPointer(k, key.Length);
                SpanByteAndMemory output = default;
                var status = session.Read(ref keySpan, ref output);
                if (status.IsPending)
                {
                    session.CompletePendingWithOutputs(out var completed, wait: true);
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
                    return default;
                }
                using var owner = output.Memory;
                return MessagePackSerializer.Deserialize<T>(owner.Memory[..output.Length]);
            }
        }
        finally
        {
            Return(session);
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
        var session = Rent();
        try
        {
            fixed (byte* k = key)
            fixed (byte* v = value)
            {
                var keySpan = SpanByte.FromPointer(k, key.Length);
                var valueSpan = SpanByte.FromPointer(v, value.Length);
                var status = session.Upsert(ref keySpan, ref valueSpan);
                if (status.IsPending)
                {
                    session.CompletePending(wait: true);
                }
            }
        }
        finally
        {
            Return(session);
        }
    }

    private unsafe void Delete(byte kind, string site, string id)
    {
        var max = StoreKeys.MaxLength(site, id);
        var key = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = StoreKeys.Write(key, kind, site, id);
        var session = Rent();
        try
        {
            fixed (byte* k = key)
            {
                var keySpan = SpanByte.FromPointer(k, length);
                var status = session.Delete(ref keySpan);
                if (status.IsPending)
                {
                    session.CompletePending(wait: true);
                }
            }
        }
        finally
        {
            Return(session);
        }
    }

    [MessagePackObject]
    public sealed class StoredMarker
    {
        [Key(0)] public long ReplayFrom { get; set; }
        [Key(1)] public long LastSeq { get; set; }
    }
}

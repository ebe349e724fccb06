using FASTER.core;
using MessagePack;
using Personalizer.Engine.Diagnostics;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>Compaction of the profile log and the erasure purge, on FASTER's scan compaction.</summary>
public sealed partial class FasterProfileStore
{
    /// <summary>
    /// Compacts the profile log in steps of <see cref="CompactStep"/> bytes, each under the gate (a few
    /// milliseconds), once the log is larger than its compaction threshold: FASTER copies the live records of
    /// the oldest part to the tail and moves the log's start past it, dropping overwritten versions, deleted
    /// profiles and expired event-id claims. Only the read-only part can be compacted. The next checkpoint
    /// deletes the old files (FASTER truncates at each checkpoint), so until the one after it there is no older
    /// checkpoint to fall back to.
    /// When much of the log stays live, the threshold grows to twice what remains, so live data is not copied round and round.
    /// </summary>
    public async ValueTask<long> CompactAsync(DateTimeOffset claimsBefore, CancellationToken ct = default)
    {
        var expiry = new ClaimExpiry(claimsBefore.ToUnixTimeMilliseconds());
        long compacted = 0;
        while (!ct.IsCancellationRequested)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var log = _store.Log;
                if (compacted == 0 && log.TailAddress - log.BeginAddress < _compactAbove)
                {
                    return 0;
                }
                var until = Math.Min(log.SafeReadOnlyAddress, log.BeginAddress + CompactStep);
                if (until <= log.BeginAddress)
                {
                    break;
                }
                var begin = log.BeginAddress;
                _session.Compact(until, CompactionType.Scan, expiry);
                compacted += until - begin;
                Volatile.Write(ref _compactedSinceCheckpoint, 1);
            }
            finally
            {
                _gate.Release();
            }
            await Task.Yield();
        }
        var remaining = _store.Log.TailAddress - _store.Log.BeginAddress;
        _compactAbove = Math.Max((long)_options.CompactAboveMb << 20, 2 * remaining);
        Log.StoreCompacted(_logger, compacted >> 20, remaining >> 20);
        return compacted;
    }

    public async ValueTask PurgeAsync(IReadOnlyCollection<(string Site, string Visitor)> erased, DateTimeOffset claimsBefore, CancellationToken ct = default)
    {
        var prefixes = erased.Select(e => ClaimPrefix(e.Site, e.Visitor)).ToArray();
        var expiry = new ClaimExpiry(claimsBefore.ToUnixTimeMilliseconds(), prefixes);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var log = _store.Log;
            // 1. Everything to the read-only part, and all of it compacted: only live records remain, copied to the tail.
            log.ShiftReadOnlyAddress(log.TailAddress, wait: true);
            _session.Compact(log.SafeReadOnlyAddress, CompactionType.Scan, expiry);
            // 2. Fill the current file with padding records, so that the live copies move to the next file and the
            //    whole old file lies before the log's start (deleted by the next checkpoint).
            var segment = Math.Max((long)_options.SegmentMb << 20, (long)_options.PageKb << 10);
            var boundary = (log.TailAddress / segment + 1) * segment;
            var filler = new byte[Math.Max(1, ((_options.PageKb << 10) / 4) - 64)];
            var padding = 0;
            while (log.TailAddress < boundary)
            {
                Write(StoreKeys.Meta, "", "pad-" + padding++, filler);
            }
            for (var i = 0; i < padding; i++)
            {
                Delete(StoreKeys.Meta, "", "pad-" + i);
            }
            log.ShiftReadOnlyAddress(log.TailAddress, wait: true);
            _session.Compact(log.SafeReadOnlyAddress, CompactionType.Scan, expiry);
            Volatile.Write(ref _compactedSinceCheckpoint, 1);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static byte[] ClaimPrefix(string site, string visitor)
    {
        var id = visitor + "/";
        var key = new byte[StoreKeys.MaxLength(site, id)];
        return key[..StoreKeys.Write(key, StoreKeys.EventId, site, id)];
    }

    private const long CompactStep = 8L << 20;
    private long _compactAbove;
    private int _compactedSinceCheckpoint;

    /// <summary>
    /// Tells FASTER's compaction which live records to drop: event-id claims older than the dedupe window,
    /// and every claim of an erased visitor (keys <c>e SITE 0 VISITOR/EVENT</c>).
    /// </summary>
    private readonly struct ClaimExpiry(long beforeMs, byte[][]? erasedPrefixes = null) : ICompactionFunctions<SpanByte, SpanByte>
    {
        public bool IsDeleted(ref SpanByte key, ref SpanByte value)
        {
            if (key.Length == 0 || key.AsReadOnlySpan()[0] != StoreKeys.EventId)
            {
                return false;
            }
            if (erasedPrefixes is not null)
            {
                foreach (var prefix in erasedPrefixes)
                {
                    if (key.AsReadOnlySpan().StartsWith(prefix))
                    {
                        return true;
                    }
                }
            }
            var reader = new MessagePackReader(value.AsReadOnlySpan().ToArray());
            var fields = reader.ReadArrayHeader();
            for (var i = 0; i < 2 && i < fields; i++)
            {
                reader.Skip();
            }
            var at = fields > 2 ? reader.ReadInt64() : 0;
            return at < beforeMs;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FASTER.core;
using MessagePack;
using Personalizer.Engine.Diagnostics;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// Compaction of the profile log and the erasure purge. The records to compact are read from the log's files,
/// never from FASTER's memory: only the part of the log that FASTER has written out and will not change again is
/// compacted. A record is live when the store's index still leads to it (a read of its key returns its address);
/// a live record is written again at the tail, and the log's start then moves past the part read.
/// </summary>
/// <remarks>
/// FASTER's own compaction is not used. Its scan compaction also scans everything from a step's end to the
/// read-only address for newer versions, under the gate: on a log of mostly live data larger than memory it ran for
/// minutes per step, waited forever for a page to allocate, or died of an access violation in its scan iterator
/// (all three reproduced in process: 200,000 profiles with 8 MB of memory, writes and compaction side by side).
/// </remarks>
public sealed partial class FasterProfileStore
{
    /// <summary>
    /// Compacts the part of the profile log on disk once the log is larger than its compaction threshold: the live
    /// records of that part are copied to the tail, and overwritten versions, deleted profiles and expired event-id
    /// claims are dropped. The gate is held for a batch of records at a time, so requests go on meanwhile. The next
    /// checkpoint deletes the old files (FASTER truncates at each checkpoint), so until the one after it there is no
    /// older checkpoint to fall back to. When much of the log stays live, the threshold grows to twice what remains,
    /// so live data is not copied round and round.
    /// </summary>
    public async ValueTask<long> CompactAsync(DateTimeOffset claimsBefore, CancellationToken ct = default)
    {
        var expiry = new ClaimExpiry(claimsBefore.ToUnixTimeMilliseconds());
        long from, until;
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var log = _store.Log;
            if (log.TailAddress - log.BeginAddress < _compactAbove || _logFaults.Count > 0)
            {
                // A page FASTER failed to write is a hole in the file: what it held must not be read as dropped records.
                return 0;
            }
            from = log.BeginAddress;
            until = log.HeadAddress;
        }
        finally
        {
            _gate.Release();
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var fullReads = Interlocked.Read(ref _livenessFull);
        var outcome = await CompactRangeAsync(from, until, expiry, gateHeld: false, ct).ConfigureAwait(false);
        var remaining = _store.Log.TailAddress - _store.Log.BeginAddress;
        _compactAbove = Math.Max((long)_options.CompactAboveMb << 20, 2 * remaining);
        Log.StoreCompacted(_logger, outcome.Compacted >> 20, remaining >> 20, outcome.Copied, outcome.Dropped,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, Interlocked.Read(ref _livenessFull) - fullReads);
        return outcome.Compacted;
    }

    public async ValueTask PurgeAsync(IReadOnlyCollection<(string Site, string Visitor)> erased, DateTimeOffset claimsBefore, CancellationToken ct = default)
    {
        var prefixes = erased.Select(e => ClaimPrefix(e.Site, e.Visitor)).ToArray();
        var expiry = new ClaimExpiry(claimsBefore.ToUnixTimeMilliseconds(), prefixes);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_logFaults.Count > 0)
            {
                throw new IOException("The profile log has a page that could not be written; it cannot be purged until the store is recovered.");
            }
            var log = _store.Log;
            // 1. The whole log written out, and all of it compacted: only live records remain, copied to the tail.
            var written = log.TailAddress;
            log.ShiftReadOnlyAddress(written, wait: true);
            await CompactRangeAsync(log.BeginAddress, written, expiry, gateHeld: true, ct).ConfigureAwait(false);
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
            written = log.TailAddress;
            log.ShiftReadOnlyAddress(written, wait: true);
            await CompactRangeAsync(log.BeginAddress, written, expiry, gateHeld: true, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private readonly record struct CompactionOutcome(long Compacted, long Copied, long Dropped);

    /// <summary>
    /// Compacts [<paramref name="from"/>, <paramref name="until"/>), a part of the log already written to its files,
    /// a page at a time: the page is read from the file (without the gate: that part of the file no longer changes),
    /// then its records are checked and copied in batches under the gate, and the log's start moves past the page.
    /// </summary>
    private async ValueTask<CompactionOutcome> CompactRangeAsync(long from, long until, ClaimExpiry expiry, bool gateHeld, CancellationToken ct)
    {
        var pageSize = (long)_options.PageKb << 10;
        using var reader = new LogFileReader(Path.Combine(_directory, "profiles.log"), Math.Max((long)_options.SegmentMb << 20, pageSize), (int)pageSize);
        var records = new List<LogRecord>(4096);
        long copied = 0, dropped = 0;
        var position = from;
        while (position < until && !ct.IsCancellationRequested)
        {
            var pageStart = position & ~(pageSize - 1);
            var pageEnd = Math.Min(pageStart + pageSize, until);
            var page = reader.Read(pageStart);
            records.Clear();
            if (!LogFileReader.Parse(page, pageStart, position, pageEnd, records, out var malformedAt))
            {
                Log.CompactionMalformedRecord(_logger, malformedAt);
            }
            // At least one hold of the gate per page: the last one also moves the log's start past the page.
            var i = 0;
            do
            {
                if (!gateHeld)
                {
                    await _gate.WaitAsync(ct).ConfigureAwait(false);
                }
                try
                {
                    i = CheckAndCopy(records, i, page, pageEnd, expiry, ref copied, ref dropped);
                }
                finally
                {
                    if (!gateHeld)
                    {
                        _gate.Release();
                    }
                }
            }
            while (i < records.Count);
            position = pageEnd;
        }
        return new CompactionOutcome(position - from, copied, dropped);
    }

    /// <summary>
    /// Checks and copies one batch of the page's records from <paramref name="i"/> on (the caller holds the gate), and
    /// moves the log's start past the page after its last record; returns where the next batch starts. Compiled fully
    /// optimized at its first call: as tier-0 code, its loop was replaced by an on-stack-replacement compile on the thread
    /// running it, at a compaction's start, holding the gate for 50-170 ms under load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int CheckAndCopy(List<LogRecord> records, int i, byte[] page, long pageEnd, in ClaimExpiry expiry, ref long copied, ref long dropped)
    {
        for (var end = Math.Min(records.Count, i + CompactBatch); i < end; i++)
        {
            var r = records[i];
            var key = page.AsSpan(r.KeyOffset, r.KeyLength);
            var value = page.AsSpan(r.ValueOffset, r.ValueLength);
            if (r.Tombstone || expiry.IsDeleted(key, value) || !IsLatest(key, r.Address, r.Valid))
            {
                dropped++;
                continue;
            }
            WriteRaw(key, value);
            copied++;
        }
        if (i == records.Count)
        {
            _store.Log.ShiftBeginAddress(pageEnd);
            Volatile.Write(ref _compactedSinceCheckpoint, 1);
        }
        return i;
    }

    /// <summary>
    /// Whether the index still leads to the record at <paramref name="address"/> for this key (the caller holds the
    /// gate). First a read that searches only the records above that address (<see cref="ReadAbove"/>), which for a
    /// live record of the file's part of the log ends at the index without reading the file; only when that read is
    /// not conclusive, the full read of the key, which reads a record on the file from the file. A valid record is in
    /// its key's hash chain from the moment it was written (the index only ever moves to newer records, and FASTER
    /// unlinks a deleted record only when nothing older of its key is left in the log), so when nothing of the key's
    /// hash lies above it, it is the latest.
    /// </summary>
    private bool IsLatest(ReadOnlySpan<byte> key, long address, bool valid)
    {
        // A record marked invalid may never have joined the key's hash chain: only the full read can tell. Nor is the
        // read above meant for a record still in memory (the erasure purge compacts those too): FASTER's in-memory
        // search honours the stop address only down to the head address, and would read the record below it.
        switch (valid && address < _store.Log.HeadAddress ? ReadAbove(key, address) : Above.Unknown)
        {
            case Above.Newer:
                Interlocked.Increment(ref _livenessAbove);
                return false;
            case Above.Nothing:
                Interlocked.Increment(ref _livenessAbove);
                return true;
        }
        Interlocked.Increment(ref _livenessFull);
        var (owner, _) = ReadBytes(key, out var latest);
        owner?.Dispose();
        return owner is not null && latest == address;
    }

    private enum Above { Newer, Nothing, Unknown }

    /// <summary>FASTER's invalid address (<c>Constants.kInvalidAddress</c>, internal to it): what a read that reached no record reports.</summary>
    private const long InvalidAddress = 0;

    /// <summary>
    /// Searches <paramref name="key"/>'s records above <paramref name="address"/> only (FASTER's read with a stop
    /// address). Newer: a record of the key was found there (found means the key was compared). Nothing: the read ended
    /// without I/O and without a record, so the index's entry for the key's hash lies at or below the address, and no
    /// version of the key was written after it. Unknown otherwise: a tombstone found above (a not-found answer that
    /// names a record), or a read that had to go to the file, whose not-found does not tell a tombstone from another
    /// key's record.
    /// </summary>
    private Above ReadAbove(ReadOnlySpan<byte> key, long address)
    {
        ReadOptions options = default;
        FasterInternals.SetStopAddress(ref options, address + 1);
        var status = Read(key, ref options, out var output, out var metadata, out var pending);
        output.Memory?.Dispose();
        if (status.Found)
        {
            return Above.Newer;
        }
        return !pending && status.NotFound && metadata.Address == InvalidAddress ? Above.Nothing : Above.Unknown;
    }

    private static byte[] ClaimPrefix(string site, string visitor)
    {
        var id = visitor + "/";
        var key = new byte[StoreKeys.MaxLength(site, id)];
        return key[..StoreKeys.Write(key, StoreKeys.EventId, site, id)];
    }

    /// <summary>Liveness checks of compaction answered by the read above the record, and those that needed the full read.</summary>
    internal (long Above, long Full) LivenessChecks => (Interlocked.Read(ref _livenessAbove), Interlocked.Read(ref _livenessFull));

    private long _livenessAbove;
    private long _livenessFull;

    /// <summary>Records checked and copied per hold of the gate.</summary>
    private const int CompactBatch = 64;
    private long _compactAbove;
    private int _compactedSinceCheckpoint;

    /// <summary>
    /// Which live records compaction drops: event-id claims older than the dedupe window, and every claim of an
    /// erased visitor (keys <c>e SITE 0 VISITOR/EVENT</c>).
    /// </summary>
    private readonly struct ClaimExpiry(long beforeMs, byte[][]? erasedPrefixes = null)
    {
        public bool IsDeleted(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            if (key.Length == 0 || key[0] != StoreKeys.EventId)
            {
                return false;
            }
            if (erasedPrefixes is not null)
            {
                foreach (var prefix in erasedPrefixes)
                {
                    if (key.StartsWith(prefix))
                    {
                        return true;
                    }
                }
            }
            var reader = new MessagePackReader(value.ToArray());
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

/// <summary>One record of a page of the profile log, as <see cref="LogFileReader.Parse"/> finds it.</summary>
internal readonly record struct LogRecord(long Address, bool Tombstone, bool Valid, int KeyOffset, int KeyLength, int ValueOffset, int ValueLength);

/// <summary>
/// Reads pages of FASTER's hybrid log from its segment files (<c>NAME.SEGMENT</c>) and parses their records: a
/// <see cref="RecordInfo"/> word, then the key and the value, each a 4-byte length (two flag bits on top) and its
/// bytes; the key padded to 8 bytes, the record too. A record never spans pages; the space it leaves at a page's end is
/// zero, as is the space an in-place write left behind when it shortened a value.
/// </summary>
internal sealed class LogFileReader(string baseName, long segmentSize, int pageSize) : IDisposable
{
    private const int HeaderMask = 0x3 << 30;
    private const int ExtraMetadataBit = 1 << 30;
    private readonly byte[] _page = new byte[pageSize];
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _file;
    private long _segment = -1;

    /// <summary>The page starting at <paramref name="pageStart"/>; bytes past the file's end read as zero.</summary>
    public byte[] Read(long pageStart)
    {
        var segment = pageStart / segmentSize;
        if (segment != _segment)
        {
            _file?.Dispose();
            _file = File.OpenHandle($"{baseName}.{segment}", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _segment = segment;
        }
        var offset = pageStart % segmentSize;
        var read = 0;
        while (read < _page.Length)
        {
            var n = RandomAccess.Read(_file!, _page.AsSpan(read), offset + read);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        _page.AsSpan(read).Clear();
        return _page;
    }

    /// <summary>
    /// The valid records of <paramref name="page"/> that start in [<paramref name="from"/>, <paramref name="until"/>).
    /// False, with the address, when a record's lengths run past the page: the rest of the page is then skipped (as
    /// FASTER's own scan does).
    /// </summary>
    public static bool Parse(byte[] page, long pageStart, long from, long until, List<LogRecord> records, out long malformedAt)
    {
        malformedAt = -1;
        var offset = (int)(from - pageStart);
        var end = (int)(until - pageStart);
        while (offset < end && offset + 8 <= page.Length)
        {
            var info = MemoryMarshal.Read<RecordInfo>(page.AsSpan(offset));
            if (info.IsNull())
            {
                offset += 8;
                continue;
            }
            if (offset + 12 > page.Length)
            {
                malformedAt = pageStart + offset;
                return false;
            }
            var keyField = BitConverter.ToInt32(page, offset + 8);
            var keyLength = keyField & ~HeaderMask;
            var keyStart = offset + 12 + ((keyField & ExtraMetadataBit) != 0 ? 8 : 0);
            var valueAt = offset + 8 + Align(4 + keyLength);
            if (keyLength <= 0 || valueAt + 4 > page.Length)
            {
                malformedAt = pageStart + offset;
                return false;
            }
            var valueField = BitConverter.ToInt32(page, valueAt);
            var valueLength = valueField & ~HeaderMask;
            var metadata = (valueField & ExtraMetadataBit) != 0 ? 8 : 0;
            var size = Align(valueAt + 4 + valueLength - offset);
            if (valueLength < metadata || offset + size > page.Length)
            {
                malformedAt = pageStart + offset;
                return false;
            }
            // Invalid and sealed records are listed too: whether a record is live is the index's answer, not its header's.
            records.Add(new LogRecord(pageStart + offset, info.Tombstone, !info.Invalid, keyStart, keyLength - (keyStart - offset - 12),
                valueAt + 4 + metadata, valueLength - metadata));
            offset += size;
        }
        return true;
    }

    private static int Align(int n) => (n + 7) & ~7;

    public void Dispose() => _file?.Dispose();
}

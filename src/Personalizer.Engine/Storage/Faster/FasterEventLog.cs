using FASTER.core;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// The durable log on FASTER's <see cref="FasterLog"/>: enqueue to memory, commit (fsync) in groups.
/// Commit records go through <see cref="LogCommits"/>, which never lets a failed write replace a good one.
/// After a failed commit the log is reopened (<see cref="Reopen"/>): it comes back at its last good commit,
/// dropping what was enqueued after it, which nobody was told is durable.
/// </summary>
public sealed class FasterEventLog : IEventLog
{
    private readonly string _directory;
    private readonly int _memoryMb;
    private readonly bool _readOnly;
    private readonly int _segmentBits;
    private IDevice _device = null!;
    private FasterLog _log = null!;
    private LogCommits _commits = null!;

    /// <param name="readOnly">Open a log another process owns (or a copy) for reading: no recovery writes, no commits.</param>
    public FasterEventLog(string directory, int memoryMb, bool readOnly = false, int segmentMb = 64)
    {
        if (!readOnly)
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"No event log at '{directory}'.");
        }
        _directory = directory;
        _memoryMb = memoryMb;
        _segmentBits = Math.Max(22, (int)Math.Log2(segmentMb) + 20);
        _readOnly = readOnly;
        Open();
    }

    private void Open()
    {
        _device = Devices.CreateLogDevice(Path.Combine(_directory, "events.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);
        _commits = new LogCommits(Path.Combine(_directory, "commits"));
        var memoryBits = Math.Max(23, (int)Math.Log2(_memoryMb) + 20);
        _log = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            PageSizeBits = 22,
            SegmentSizeBits = _segmentBits,
            MemorySizeBits = memoryBits,
            LogCommitManager = _commits,
            TryRecoverLatest = true,
            ReadOnlyMode = _readOnly,
        });
    }

    public long Enqueue(ReadOnlySpan<byte> entry) => _log.Enqueue(entry);

    public async ValueTask CommitAsync(CancellationToken ct = default)
    {
        var target = _log.TailAddress;
        await _log.CommitAsync(ct).ConfigureAwait(false);
        // A commit record that failed is an error only for what no written commit record covers: when an earlier
        // record failed and a later one holding this commit's records went through, they are durable, and refusing
        // them would be wrong (they would be applied at the next start all the same).
        if (_commits.Failure is { } failure && _commits.DurableUntil < target)
        {
            throw new IOException("The event log's commit record could not be written: " + failure.Message, failure);
        }
    }

    public void Reopen()
    {
        try
        {
            _log.Dispose();
        }
        catch (Exception ex) when (ex is IOException or FasterException or ObjectDisposedException)
        {
            // A log whose writes failed may fail to close cleanly; what it committed is on disk.
        }
        _device.Dispose();
        Open();
    }

    public void TruncateUntil(long address) => _log.TruncateUntil(address);

    public long TailAddress => _log.TailAddress;

    public long SegmentSize => 1L << _segmentBits;

    public long CommittedUntilAddress => _log.CommittedUntilAddress;

    public long BeginAddress => _log.BeginAddress;

    public IEnumerable<LogEntry> Scan(long from)
    {
        using var iterator = _log.Scan(Math.Max(from, _log.BeginAddress), _log.CommittedUntilAddress);
        while (iterator.GetNext(out byte[] entry, out var length, out var address, out var next))
        {
            yield return new LogEntry(address, next, entry, length);
        }
    }

    public void Dispose()
    {
        _log.Dispose();
        _device.Dispose();
    }
}

using FASTER.core;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>The durable log on FASTER's <see cref="FasterLog"/>: enqueue to memory, commit (fsync) in groups.</summary>
public sealed class FasterEventLog : IEventLog
{
    private readonly IDevice _device;
    private readonly FasterLog _log;

    /// <param name="readOnly">Open a log another process owns (or a copy) for reading: no recovery writes, no commits.</param>
    public FasterEventLog(string directory, int memoryMb, bool readOnly = false)
    {
        if (!readOnly)
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"No event log at '{directory}'.");
        }
        _device = Devices.CreateLogDevice(Path.Combine(directory, "events.log"), preallocateFile: false, deleteOnClose: false, recoverDevice: true);
        var memoryBits = Math.Max(23, (int)Math.Log2(memoryMb) + 20);
        _log = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            PageSizeBits = 22,
            MemorySizeBits = memoryBits,
            LogCommitDir = Path.Combine(directory, "commits"),
            TryRecoverLatest = true,
            ReadOnlyMode = readOnly,
        });
    }

    public long Enqueue(ReadOnlySpan<byte> entry) => _log.Enqueue(entry);

    public ValueTask CommitAsync(CancellationToken ct = default) => _log.CommitAsync(ct);

    public long TailAddress => _log.TailAddress;

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

namespace Personalizer.Engine.Pipeline;

/// <summary>The durable, append-only log every change goes through before it is applied.</summary>
public interface IEventLog : IDisposable
{
    /// <summary>Appends an entry to the in-memory tail (not yet durable) and returns its address.</summary>
    long Enqueue(ReadOnlySpan<byte> entry);

    /// <summary>Makes everything enqueued before the call durable (group commit).</summary>
    ValueTask CommitAsync(CancellationToken ct = default);

    /// <summary>
    /// After a failed commit: closes the log and opens it again at its last good commit, dropping what was
    /// enqueued after it (none of it was reported durable). Throws while that is not possible.
    /// </summary>
    void Reopen();

    /// <summary>Drops the entries before <paramref name="address"/> (made durable by the next commit).</summary>
    void TruncateUntil(long address);

    /// <summary>Bytes of one log file: truncation deletes whole files.</summary>
    long SegmentSize { get; }

    long TailAddress { get; }

    long CommittedUntilAddress { get; }

    long BeginAddress { get; }

    /// <summary>The committed entries from <paramref name="from"/> on, in order.</summary>
    IEnumerable<LogEntry> Scan(long from);
}

public readonly record struct LogEntry(long Address, long NextAddress, byte[] Bytes, int Length);

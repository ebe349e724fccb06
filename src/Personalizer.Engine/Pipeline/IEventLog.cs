namespace Personalizer.Engine.Pipeline;

/// <summary>The durable, append-only log every change goes through before it is applied.</summary>
public interface IEventLog : IDisposable
{
    /// <summary>Appends an entry to the in-memory tail (not yet durable) and returns its address.</summary>
    long Enqueue(ReadOnlySpan<byte> entry);

    /// <summary>Makes everything enqueued before the call durable (group commit).</summary>
    ValueTask CommitAsync(CancellationToken ct = default);

    long TailAddress { get; }

    long CommittedUntilAddress { get; }

    long BeginAddress { get; }

    /// <summary>The committed entries from <paramref name="from"/> on, in order.</summary>
    IEnumerable<LogEntry> Scan(long from);
}

public readonly record struct LogEntry(long Address, long NextAddress, byte[] Bytes, int Length);

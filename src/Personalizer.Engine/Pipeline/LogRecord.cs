using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// One entry of the durable log: a change of state, written and committed first, then applied, and
/// replayed after a crash. The log knows no record type: each feature registers its own with
/// <see cref="RecordTypes"/> under a tag that is stored with the entry.
/// </summary>
public abstract class LogRecord
{
    [IgnoreMember] public abstract string Site { get; }

    /// <summary>How many changes the record carries (the events of a batch): what an answer while the store is away reports as queued.</summary>
    [IgnoreMember] public virtual int Count => 1;
}

/// <summary>
/// The record types the log holds, by stored tag. An entry is written as a two-element MessagePack
/// array <c>[tag, record]</c> (the layout of a MessagePack union), so a tag once given is never reused.
/// </summary>
public sealed class RecordTypes
{
    private readonly Dictionary<int, Func<ReadOnlyMemory<byte>, LogRecord>> _readers = [];
    private readonly Dictionary<Type, (int Tag, Action<IBufferWriter<byte>, LogRecord> Write)> _writers = [];

    public void Register<T>(int tag) where T : LogRecord
    {
        if (_readers.ContainsKey(tag))
        {
            throw new InvalidOperationException($"Log record tag {tag} is registered twice (for {typeof(T).Name}).");
        }
        if (_writers.ContainsKey(typeof(T)))
        {
            throw new InvalidOperationException($"Log record type {typeof(T).Name} is registered twice.");
        }
        _readers[tag] = bytes => MessagePackSerializer.Deserialize<T>(bytes);
        _writers[typeof(T)] = (tag, (writer, record) => MessagePackSerializer.Serialize(writer, (T)record));
    }

    public void Write(IBufferWriter<byte> output, LogRecord record)
    {
        if (!_writers.TryGetValue(record.GetType(), out var entry))
        {
            throw new InvalidOperationException($"Log record type {record.GetType().Name} is not registered.");
        }
        var header = new MessagePackWriter(output);
        header.WriteArrayHeader(2);
        header.Write(entry.Tag);
        header.Flush();
        entry.Write(output, record);
    }

    public byte[] Serialize(LogRecord record)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        Write(writer, record);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The record, or null for a tag this build does not know (a record type since retired).</summary>
    public LogRecord? Read(ReadOnlyMemory<byte> bytes)
    {
        var reader = new MessagePackReader(bytes);
        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("A log record is a [tag, record] pair.");
        }
        var tag = reader.ReadInt32();
        return _readers.TryGetValue(tag, out var read) ? read(bytes[(int)reader.Consumed..]) : null;
    }
}

/// <summary>
/// Reads the committed log back. Each entry is an 8-byte sequence number, then the record; sequence 0
/// marks an entry that is never applied (older builds logged impressions that way), skipped unread.
/// </summary>
public static class LogReader
{
    public static IEnumerable<(long Seq, LogRecord Record)> Read(IEventLog log, RecordTypes types, long? from = null, long until = long.MaxValue, CancellationToken ct = default)
    {
        foreach (var entry in log.Scan(from ?? log.BeginAddress))
        {
            ct.ThrowIfCancellationRequested();
            if (entry.Address >= until)
            {
                yield break;
            }
            var seq = BinaryPrimitives.ReadInt64LittleEndian(entry.Bytes);
            if (seq == 0)
            {
                continue;
            }
            if (types.Read(entry.Bytes.AsMemory(8, entry.Length - 8)) is { } record)
            {
                yield return (seq, record);
            }
        }
    }
}

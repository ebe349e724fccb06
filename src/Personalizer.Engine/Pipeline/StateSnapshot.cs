using MessagePack;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// The in-memory state beside the store (every registered <see cref="ICheckpointPart"/>), written at
/// each checkpoint as one file named by the last sequence number it contains.
/// </summary>
[MessagePackObject]
public sealed class StateSnapshot
{
    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithCompression(MessagePackCompression.Lz4BlockArray);

    [Key(0)] public long LastSeq { get; set; }

    // Keys 1-4 held the parts as fixed fields in earlier versions; such a file is not read (see TryRead).
    [Key(5)] public Dictionary<string, byte[]>? Parts { get; set; }

    public static string PathFor(string directory, long seq) => Path.Combine(directory, $"state-{seq:D20}.bin");

    /// <summary>Writes to a temporary file, flushes it to disk, then renames: a reader sees the whole file or none.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        DurableFiles.Replace(PathFor(directory, LastSeq), stream => MessagePackSerializer.Serialize(stream, this, Options));
    }

    /// <summary>The snapshot of a checkpoint, or null when it is missing, unreadable or of an older layout.</summary>
    public static StateSnapshot? TryRead(string directory, long seq)
    {
        var path = PathFor(directory, seq);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var stream = File.OpenRead(path);
            var snapshot = MessagePackSerializer.Deserialize<StateSnapshot>(stream, Options);
            return snapshot.Parts is null ? null : snapshot;
        }
        catch (MessagePackSerializationException)
        {
            return null;
        }
    }

    /// <summary>Removes snapshots older than <paramref name="keepFromSeq"/>, which the latest durable checkpoint no longer needs.</summary>
    public static void Prune(string directory, long keepFromSeq)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var file in Directory.EnumerateFiles(directory, "state-*.bin"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (long.TryParse(name.AsSpan(6), out var seq) && seq < keepFromSeq)
            {
                File.Delete(file);
            }
        }
    }
}

using MessagePack;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// The small in-memory state beside the profile store (catalogue, configuration history, trending),
/// written at each checkpoint as one file named by the last sequence number it contains.
/// </summary>
[MessagePackObject]
public sealed class StateSnapshot
{
    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithCompression(MessagePackCompression.Lz4BlockArray);

    [Key(0)] public long LastSeq { get; set; }
    [Key(1)] public Dictionary<string, CatalogItem[]> Catalog { get; set; } = [];
    [Key(2)] public Dictionary<string, StoredConfigurationVersion[]> Configuration { get; set; } = [];
    [Key(3)] public Dictionary<string, StoredTrending> Trending { get; set; } = [];
    [Key(4)] public Triggers.PendingMessage[] PendingMessages { get; set; } = [];

    public static string PathFor(string directory, long seq) => Path.Combine(directory, $"state-{seq:D20}.bin");

    /// <summary>Writes to a temporary file, flushes it to disk, then renames: a reader sees the whole file or none.</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = PathFor(directory, LastSeq);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            MessagePackSerializer.Serialize(stream, this, Options);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static StateSnapshot Read(string directory, long seq)
    {
        var path = PathFor(directory, seq);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"The state snapshot '{path}' that belongs to the store's checkpoint is missing; the data folder is incomplete.");
        }
        using var stream = File.OpenRead(path);
        return MessagePackSerializer.Deserialize<StateSnapshot>(stream, Options);
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

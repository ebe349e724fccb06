using System.Collections.Concurrent;
using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Recommendations;

public sealed record ModelInfo(string Site, string Version, long CreatedAt, int Users, int Items, int Interactions, double TrainingSeconds, IReadOnlyDictionary<string, double> Evaluation, bool Current);

/// <summary>
/// The current model of each site (one volatile reference: a decide sees one model from start to
/// end) and the persisted versions under <c>DataPath/models/SITE/</c>. Publishing writes the file
/// first (temp, fsync, rename), then swaps.
/// </summary>
public sealed class ModelRegistry(LedgerOptions options)
{
    private static readonly MessagePackSerializerOptions Compressed =
        MessagePackSerializerOptions.Standard.WithCompression(MessagePackCompression.Lz4BlockArray);

    private readonly ConcurrentDictionary<string, RecommendationModel> _current = new(StringComparer.Ordinal);
    private readonly string _directory = Path.Combine(options.DataPath, "models");

    public static byte[] Serialize(RecommendationModel model) => MessagePackSerializer.Serialize(model, Compressed);

    public static RecommendationModel Deserialize(ReadOnlyMemory<byte> bytes) => MessagePackSerializer.Deserialize<RecommendationModel>(bytes, Compressed);

    public RecommendationModel? Current(string site) => _current.TryGetValue(site, out var m) ? m : null;

    public void Publish(RecommendationModel model)
    {
        var directory = Path.Combine(_directory, model.Site);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, model.Version + ".model");
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            MessagePackSerializer.Serialize(stream, model, Compressed);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        _ = model.Serving; // built before the first request sees the model
        _current[model.Site] = model;
    }

    /// <summary>Loads the newest persisted model of every site that has one.</summary>
    public void LoadLatest()
    {
        if (!Directory.Exists(_directory))
        {
            return;
        }
        foreach (var siteDirectory in Directory.EnumerateDirectories(_directory))
        {
            var latest = Directory.EnumerateFiles(siteDirectory, "*.model").Order(StringComparer.Ordinal).LastOrDefault();
            if (latest is not null)
            {
                var model = Read(latest);
                _ = model.Serving;
                _current.TryAdd(model.Site, model); // a model already adopted from the shared feed wins
            }
        }
    }

    public IReadOnlyList<ModelInfo> Versions(string site)
    {
        var directory = Path.Combine(_directory, site);
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var current = Current(site)?.Version;
        return [.. Directory.EnumerateFiles(directory, "*.model")
            .Order(StringComparer.Ordinal)
            .Reverse()
            .Select(Read)
            .Select(m => new ModelInfo(m.Site, m.Version, m.CreatedAt, m.Users, m.ItemIds.Length, m.Interactions, m.TrainingSeconds, m.Evaluation, m.Version == current))];
    }

    private static RecommendationModel Read(string path)
    {
        using var stream = File.OpenRead(path);
        return MessagePackSerializer.Deserialize<RecommendationModel>(stream, Compressed);
    }
}

using Personalizer.Engine;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests;

/// <summary>A temporary data folder, removed at the end of the test.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "p13n-tests", Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class TestData
{
    /// <summary>The folder that holds Personalizer.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Personalizer.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Personalizer.sln not found above " + AppContext.BaseDirectory);
    }

    public static readonly long T0 = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static PersonalizerOptions Options(string dataPath) => new()
    {
        DataPath = dataPath,
        CheckpointIntervalSeconds = 0,
        Faster = new FasterOptions { MemoryMb = 16, PageKb = 256, IndexMb = 1, EventLogMemoryMb = 8 },
    };

    public static TrackedEvent Event(string id, EventType type, string visitor, long at = 0, string? item = null) => new()
    {
        EventId = id,
        Type = type,
        VisitorId = visitor,
        Timestamp = at == 0 ? T0 : at,
        ItemId = item,
        Quantity = type == EventType.AddToCart ? 1 : 0,
    };

    public static CatalogItem Item(string id, params string[] categories) => new()
    {
        Id = id,
        Title = "Item " + id,
        Categories = categories,
        Price = 10,
        InStock = true,
    };
}

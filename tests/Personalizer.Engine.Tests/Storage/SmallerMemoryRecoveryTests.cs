using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>
/// A checkpoint whose in-memory part is larger than the memory the store is opened with (an operator lowered
/// <c>Faster:MemoryMb</c>, or a folder filled by a tool with more memory) comes back whole, and stays whole as the
/// log moves on and the recovered records leave memory for the log file.
/// </summary>
public sealed class SmallerMemoryRecoveryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private FasterProfileStore Open(int memoryMb) => new(Path.Combine(_folder.Path, "profiles"),
        new FasterOptions { MemoryMb = memoryMb, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 1 }, NullLogger.Instance);

    private static VisitorProfile Profile(int v, int views) =>
        new() { VisitorId = $"v{v}", PageViews = views, PurchasedItems = [.. Enumerable.Range(0, 30).Select(i => $"item-{v}-{i}")] };

    [Fact]
    public async Task ACheckpointLargerThanTheMemoryComesBackWholeAndStaysWhole()
    {
        const int visitors = 12_000; // about 10 MB of log: all in 32 MB of memory, not in 4 MB
        await using (var store = Open(32))
        {
            for (var v = 0; v < visitors; v++)
            {
                await store.PutAsync("s", Profile(v, v));
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
        }

        await using (var store = Open(4))
        {
            Assert.NotNull(await store.RecoverAsync());
            for (var v = 0; v < visitors; v++)
            {
                Assert.Equal(v, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
            // More than the memory holds is written after it, so the recovered records are read from the log file.
            for (var round = 0; round < 3; round++)
            {
                for (var v = 0; v < 3000; v++)
                {
                    var profile = await store.GetAsync("s", $"v{visitors + v}") ?? Profile(visitors + v, 0);
                    profile.PageViews = round;
                    await store.PutAsync("s", profile);
                }
            }
            Assert.True(store.MemoryBytes < 8 << 20, $"{store.MemoryBytes} bytes in memory after recovery");
            for (var v = 0; v < visitors; v++)
            {
                Assert.Equal(v, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 2), full: true));
        }

        // And once more with the small memory: the checkpoint written after the recovery fits it.
        await using (var store = Open(4))
        {
            Assert.NotNull(await store.RecoverAsync());
            for (var v = 0; v < visitors; v++)
            {
                Assert.Equal(v, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
            for (var v = 0; v < 3000; v++)
            {
                Assert.Equal(2, (await store.GetAsync("s", $"v{visitors + v}"))!.PageViews);
            }
        }
    }
}

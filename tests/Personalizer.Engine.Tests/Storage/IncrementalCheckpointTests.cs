using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>
/// Log checkpoints after the first are deltas over the last full snapshot: they write what changed, not the whole
/// in-memory log, and recovery returns to the newest of them.
/// </summary>
public sealed class IncrementalCheckpointTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Profiles => Path.Combine(_folder.Path, "profiles");

    private FasterProfileStore Open() => new(Profiles,
        new FasterOptions { MemoryMb = 16, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 64 }, NullLogger.Instance);

    private string[] LogCheckpointFolders() => Directory.GetDirectories(Path.Combine(Profiles, "checkpoints", "cpr-checkpoints"));

    private static long DeltaBytes(string folder) =>
        Directory.GetFiles(folder, "delta.dat*").Sum(f => new FileInfo(f).Length);

    private static long SnapshotBytes(string folder) =>
        Directory.GetFiles(folder, "snapshot.dat*").Sum(f => new FileInfo(f).Length);

    [Fact]
    public async Task DeltasHoldOnlyChangesAndRecoverToTheNewest()
    {
        await using (var store = Open())
        {
            for (var v = 0; v < 5_000; v++)
            {
                await store.PutAsync("s", new VisitorProfile { VisitorId = $"v{v}", PurchasedItems = [.. Enumerable.Range(0, 10).Select(i => $"item-{v}-{i}")] });
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
            var baseFolder = Assert.Single(LogCheckpointFolders());
            var snapshot = SnapshotBytes(baseFolder);

            // Ten checkpoints, each after ten visitors changed: each appends a delta to the same folder.
            for (var round = 1; round <= 10; round++)
            {
                for (var v = 0; v < 10; v++)
                {
                    var profile = (await store.GetAsync("s", $"v{v}"))!;
                    profile.PageViews = round;
                    await store.PutAsync("s", profile);
                }
                Assert.True(await store.CheckpointAsync(new CheckpointMarker(round, round + 1), full: false));
            }
            var folder = Assert.Single(LogCheckpointFolders());
            Assert.Equal(baseFolder, folder);
            var deltas = DeltaBytes(folder);
            Assert.InRange(deltas, 1, snapshot / 4);
        }

        await using (var store = Open())
        {
            var marker = await store.RecoverAsync();
            Assert.Equal(new CheckpointMarker(10, 11), marker);
            for (var v = 0; v < 10; v++)
            {
                Assert.Equal(10, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
            Assert.Equal(10, (await store.GetAsync("s", "v4999"))!.PurchasedItems.Count);

            // After a restart the next checkpoint is a full snapshot of its own; the one before is kept as the fallback.
            var profile = (await store.GetAsync("s", "v1"))!;
            profile.PageViews = 99;
            await store.PutAsync("s", profile);
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(11, 12), full: false));
            Assert.Equal(2, LogCheckpointFolders().Length);
        }

        await using (var store = Open())
        {
            Assert.Equal(new CheckpointMarker(11, 12), await store.RecoverAsync());
            Assert.Equal(99, (await store.GetAsync("s", "v1"))!.PageViews);
        }
    }

    [Fact]
    public async Task ACompactionMakesTheNextCheckpointFull()
    {
        await using var store = new FasterProfileStore(Profiles,
            new FasterOptions { MemoryMb = 4, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 1 }, NullLogger.Instance);
        for (var round = 0; round < 30; round++)
        {
            for (var v = 0; v < 500; v++)
            {
                var profile = await store.GetAsync("s", $"v{v}") ?? new VisitorProfile { VisitorId = $"v{v}" };
                profile.PurchasedItems = [.. Enumerable.Range(0, 20 + round).Select(i => $"item-{round}-{i}")];
                await store.PutAsync("s", profile);
            }
            if (round == 0)
            {
                Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
            }
        }
        Assert.True(await store.CheckpointAsync(new CheckpointMarker(1, 2), full: false));
        var before = LogCheckpointFolders();
        Assert.True(await store.CompactAsync(DateTimeOffset.UtcNow.AddDays(-7)) > 0);
        Assert.True(await store.CheckpointAsync(new CheckpointMarker(2, 3), full: false));
        var after = LogCheckpointFolders();
        Assert.Contains(after, f => !before.Contains(f));
    }

    /// <summary>
    /// A delta holds what changed in the part of the log still in memory. A profile changed in place after the full
    /// snapshot, whose page is then written to the log file as the log grows, is in no delta: recovery reads that
    /// range from the snapshot. Such a checkpoint must not be a delta.
    /// </summary>
    [Theory]
    [InlineData(4_000)]
    [InlineData(6_000)]
    [InlineData(9_000)]
    public async Task AChangeWrittenOutBeforeTheNextCheckpointIsRecovered(int filler)
    {
        const int Changed = 8_000;
        await using (var store = new FasterProfileStore(Profiles,
            new FasterOptions { MemoryMb = 1, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 64 }, NullLogger.Instance))
        {
            for (var v = 0; v < Changed; v++)
            {
                await store.PutAsync("s", new VisitorProfile { VisitorId = $"v{v}", PurchasedItems = ["a", "b", "c"] });
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
            for (var v = 0; v < Changed; v++)
            {
                var profile = (await store.GetAsync("s", $"v{v}"))!;
                profile.PageViews = 7; // the same length: changed in place where the record is still mutable
                await store.PutAsync("s", profile);
            }
            // New profiles move the log's read-only boundary on, and the pages behind it are written to the log file.
            for (var v = 0; v < filler; v++)
            {
                await store.PutAsync("s", new VisitorProfile { VisitorId = $"f{v}", PurchasedItems = ["a", "b", "c"] });
            }
            await Task.Delay(200);
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(1, 2), full: false));
        }

        await using (var store = new FasterProfileStore(Profiles,
            new FasterOptions { MemoryMb = 1, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 64 }, NullLogger.Instance))
        {
            Assert.Equal(new CheckpointMarker(1, 2), await store.RecoverAsync());
            var stale = 0;
            for (var v = 0; v < Changed; v++)
            {
                stale += (await store.GetAsync("s", $"v{v}"))!.PageViews == 7 ? 0 : 1;
            }
            Assert.Equal(0, stale);
        }
    }
}

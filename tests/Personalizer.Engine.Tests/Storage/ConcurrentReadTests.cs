using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>
/// Reads take pooled sessions of their own and complete reads from disk asynchronously, beside the writer and
/// the checkpoints: every read still sees a whole, current profile.
/// </summary>
public sealed class ConcurrentReadTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private FasterProfileStore Open(int readSessions) => new(Path.Combine(_folder.Path, "profiles"),
        new FasterOptions { MemoryMb = 4, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 64, ReadSessions = readSessions }, NullLogger.Instance);

    private static VisitorProfile Profile(int v, int views) =>
        new() { VisitorId = $"v{v}", PageViews = views, PurchasedItems = [.. Enumerable.Range(0, 12).Select(i => $"item-{v}-{i}")] };

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public async Task ReadsFromDiskAndMemoryBesideWritesAndCheckpointsSeeWholeProfiles(int readSessions)
    {
        const int visitors = 20_000; // ~10 MB of profiles: most of them are on disk, beyond the 4 MB in memory
        await using var store = Open(readSessions);
        for (var v = 0; v < visitors; v++)
        {
            await store.PutAsync("s", Profile(v, 0));
        }

        using var stop = new CancellationTokenSource();
        var written = new int[visitors];
        var writer = Task.Run(async () =>
        {
            var random = new Random(7);
            var round = 0;
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 200; i++)
                {
                    var v = random.Next(visitors);
                    var profile = (await store.GetAsync("s", $"v{v}"))!;
                    profile.PageViews++;
                    await store.PutAsync("s", profile);
                    Volatile.Write(ref written[v], profile.PageViews);
                }
                round++;
                Assert.True(await store.CheckpointAsync(new CheckpointMarker(round, round), full: round % 5 == 0));
            }
            return round;
        });

        var reads = 0;
        var readers = Enumerable.Range(0, 16).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            for (var i = 0; i < 1_500; i++)
            {
                var v = random.Next(visitors);
                var before = Volatile.Read(ref written[v]);
                var profile = await store.GetAsync("s", $"v{v}");
                Assert.NotNull(profile);
                Assert.Equal($"v{v}", profile.VisitorId);
                Assert.Equal(12, profile.PurchasedItems.Count);
                Assert.True(profile.PageViews >= before, $"v{v} read {profile.PageViews} views after {before} were written");
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        await Task.WhenAll(readers);
        await stop.CancelAsync();
        var rounds = await writer;
        Assert.Equal(16 * 1_500, reads);
        Assert.True(rounds > 0);
        Assert.True(store.DiskReads > 100, $"{store.DiskReads} reads went to disk");

        // Nothing was lost to the concurrency: every profile holds what was last written to it.
        for (var v = 0; v < visitors; v += 97)
        {
            Assert.Equal(written[v], (await store.GetAsync("s", $"v{v}"))!.PageViews);
        }
    }
}

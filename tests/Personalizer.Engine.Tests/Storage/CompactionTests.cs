using Microsoft.Extensions.Logging.Abstractions;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Engine.Tests.Storage;

/// <summary>The profile log is compacted: overwritten versions and expired event-id claims leave it, live profiles stay.</summary>
public sealed class CompactionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private FasterProfileStore Open() => new(Path.Combine(_folder.Path, "profiles"),
        new FasterOptions { MemoryMb = 4, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 1 }, NullLogger.Instance);

    [Fact]
    public async Task CompactionKeepsLiveProfilesAndDropsExpiredClaims()
    {
        await using (var store = Open())
        {
            // 500 visitors, each written 40 times with a growing history: far more log than live data.
            for (var round = 0; round < 40; round++)
            {
                for (var v = 0; v < 500; v++)
                {
                    var profile = await store.GetAsync("s", $"v{v}") ?? new VisitorProfile { VisitorId = $"v{v}" };
                    profile.PageViews++;
                    profile.PurchasedItems = [.. Enumerable.Range(0, 20 + round).Select(i => $"item-{round}-{i}")];
                    await store.PutAsync("s", profile, new EventClaims(new EventClaim("", round * 1000 + v + 1), [$"e{round}"]));
                }
            }
            Assert.NotNull(await store.GetEventClaimAsync("s", "v0", "e0"));

            // Everything claimed before tomorrow is older than the window: the claims in the compacted part go.
            var compacted = await store.CompactAsync(DateTimeOffset.UtcNow.AddDays(1));
            Assert.True(compacted > 0);
            Assert.Null(await store.GetEventClaimAsync("s", "v0", "e0"));
            for (var v = 0; v < 500; v++)
            {
                Assert.Equal(40, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
        }

        // Recovered after the checkpoint that followed the compaction: every profile as it was.
        await using (var store = Open())
        {
            Assert.NotNull(await store.RecoverAsync());
            for (var v = 0; v < 500; v++)
            {
                Assert.Equal(40, (await store.GetAsync("s", $"v{v}"))!.PageViews);
            }
        }
    }

    [Fact]
    public async Task ProfilesReadFromDiskComeBackWholeAndACompactedSegmentIsNotKeptOpen()
    {
        await using var store = Open();
        // 500 visitors written once, then 300 others written over and over: 4 MB in memory, the first 500 on disk.
        for (var v = 0; v < 500; v++)
        {
            await store.PutAsync("s", new VisitorProfile { VisitorId = $"old{v}", PageViews = v, PurchasedItems = [.. Enumerable.Range(0, 30).Select(i => $"item-{v}-{i}")] });
        }
        for (var round = 0; round < 80; round++)
        {
            for (var v = 0; v < 300; v++)
            {
                var profile = await store.GetAsync("s", $"v{v}") ?? new VisitorProfile { VisitorId = $"v{v}" };
                profile.PageViews++;
                profile.PurchasedItems = [.. Enumerable.Range(0, 20 + round).Select(i => $"item-{round}-{i}")];
                await store.PutAsync("s", profile);
            }
        }
        for (var v = 0; v < 500; v++)
        {
            var profile = (await store.GetAsync("s", $"old{v}"))!;
            Assert.Equal(v, profile.PageViews);
            Assert.Equal($"item-{v}-29", profile.PurchasedItems[^1]);
        }

        var before = Directory.GetFiles(Path.Combine(_folder.Path, "profiles"), "profiles.log.*").Length;
        Assert.True(await store.CompactAsync(DateTimeOffset.UtcNow) > 0);
        Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 1), full: true));
        // FASTER deletes the files behind the new start in the background once the checkpoint stands.
        Assert.True(SpinWait.SpinUntil(() => Directory.GetFiles(Path.Combine(_folder.Path, "profiles"), "profiles.log.*").Length < before, TimeSpan.FromSeconds(30)),
            "no segment was compacted away");

        // The files the compaction let go are deleted, and no read handle keeps their space.
        var held = Directory.GetFiles("/proc/self/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target is not null && target.Contains(_folder.Path, StringComparison.Ordinal) && target.EndsWith("(deleted)", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(held);
        for (var v = 0; v < 500; v++)
        {
            Assert.Equal(v, (await store.GetAsync("s", $"old{v}"))!.PageViews);
        }
    }

    [Fact]
    public async Task CompactionTellsLiveRecordsByTheIndexAndBringsBackNothingDeletedOrOverwritten()
    {
        await using var store = Open();
        async Task Churn(int rounds)
        {
            for (var round = 0; round < rounds; round++)
            {
                for (var v = 0; v < 300; v++)
                {
                    var profile = await store.GetAsync("s", $"v{v}") ?? new VisitorProfile { VisitorId = $"v{v}" };
                    profile.PageViews++;
                    profile.PurchasedItems = [.. Enumerable.Range(0, 20 + (round % 20)).Select(i => $"item-{round}-{i}")];
                    await store.PutAsync("s", profile);
                }
            }
        }
        for (var v = 0; v < 500; v++)
        {
            await store.PutAsync("s", new VisitorProfile { VisitorId = $"old{v}", PageViews = v, PurchasedItems = [.. Enumerable.Range(0, 30).Select(i => $"item-{v}-{i}")] });
        }
        async Task DeleteAndRewrite(int deleteFrom, int rewriteFrom, int pageViewsAbove)
        {
            for (var v = deleteFrom; v < deleteFrom + 50; v++)
            {
                await store.DeleteAsync("s", $"old{v}");
            }
            for (var v = rewriteFrom; v < rewriteFrom + 50; v++)
            {
                var profile = (await store.GetAsync("s", $"old{v}"))!;
                profile.PageViews = pageViewsAbove + v;
                await store.PutAsync("s", profile);
            }
        }
        await Churn(40);
        // Their first versions on the file: 50 deleted, 50 written again; then these go to the file as well.
        await DeleteAndRewrite(deleteFrom: 50, rewriteFrom: 100, pageViewsAbove: 1000);
        await Churn(40);
        // 50 more deleted and 50 more written again, in memory above everything on the file.
        await DeleteAndRewrite(deleteFrom: 0, rewriteFrom: 150, pageViewsAbove: 2000);

        Assert.True(await store.CompactAsync(DateTimeOffset.UtcNow) > 0);

        for (var v = 0; v < 500; v++)
        {
            var profile = await store.GetAsync("s", $"old{v}");
            int? expected = v switch { < 100 => null, < 150 => 1000 + v, < 200 => 2000 + v, _ => v };
            Assert.Equal(expected, profile?.PageViews);
        }
        for (var v = 0; v < 300; v++)
        {
            Assert.Equal(80, (await store.GetAsync("s", $"v{v}"))!.PageViews);
        }
        // The 300 untouched first versions, and every version with a newer one, are told apart by the index and what
        // lies above them; only the records under a tombstone (100 here) need the full read.
        var (above, full) = store.LivenessChecks;
        Assert.True(above >= 300, $"{above} checks answered above the record");
        Assert.InRange(full, 1, 100);
    }

    [Fact]
    public async Task ClaimsWithinTheWindowSurviveCompaction()
    {
        await using var store = Open();
        for (var round = 0; round < 40; round++)
        {
            for (var v = 0; v < 500; v++)
            {
                var profile = await store.GetAsync("s", $"v{v}") ?? new VisitorProfile { VisitorId = $"v{v}" };
                profile.PurchasedItems = [.. Enumerable.Range(0, 20 + round).Select(i => $"item-{round}-{i}")];
                await store.PutAsync("s", profile, new EventClaims(new EventClaim("", round * 1000 + v + 1), [$"e{round}"]));
            }
        }
        Assert.True(await store.CompactAsync(DateTimeOffset.UtcNow.AddDays(-7)) > 0);
        Assert.Equal(new EventClaim("", 1), await store.GetEventClaimAsync("s", "v0", "e0"));
    }

    [Fact]
    public async Task CompactionOfAMostlyLiveLogLargerThanMemoryRunsBesideWritesAndLosesNothing()
    {
        // 20,000 profiles of ~300 bytes (6 MB live) in 4 MB of memory: most reads and every compaction go to disk.
        const int Visitors = 20_000;
        var expected = new int[Visitors];
        var options = new FasterOptions { MemoryMb = 4, PageKb = 64, IndexMb = 1, SegmentMb = 4, CompactAboveMb = 8 };
        var folder = Path.Combine(_folder.Path, "live");
        long compacted = 0;
        await using (var store = new FasterProfileStore(folder, options, NullLogger.Instance))
        {
            var writing = true;
            async Task Write(int half)
            {
                var random = new Random(half);
                for (var n = 0; n < 100_000; n++)
                {
                    var v = random.Next(Visitors / 2) * 2 + half;
                    var profile = await store.GetAsync("s", $"visitor-{v}") ?? new VisitorProfile { VisitorId = $"visitor-{v}" };
                    Assert.Equal(expected[v], profile.PageViews);
                    profile.PageViews++;
                    // Values grow and shrink, so some records are rewritten in place and some move to the tail.
                    profile.PurchasedItems = [.. Enumerable.Range(0, random.Next(1, 30)).Select(i => $"item-{i}")];
                    await store.PutAsync("s", profile);
                    expected[v]++;
                }
            }
            async Task Compact()
            {
                while (Volatile.Read(ref writing))
                {
                    compacted += await store.CompactAsync(DateTimeOffset.UtcNow.AddDays(-1));
                    await store.CheckpointAsync(new CheckpointMarker(0, 1), full: false);
                    await Task.Delay(10);
                }
            }
            var housekeeping = Task.Run(Compact);
            await Task.WhenAll(Task.Run(() => Write(0)), Task.Run(() => Write(1)));
            Volatile.Write(ref writing, false);
            await housekeeping;

            Assert.True(compacted > 2 * (8L << 20), $"only {compacted} bytes compacted");
            for (var v = 0; v < Visitors; v++)
            {
                Assert.Equal(expected[v], (await store.GetAsync("s", $"visitor-{v}"))?.PageViews ?? 0);
            }
            Assert.True(await store.CheckpointAsync(new CheckpointMarker(0, 2), full: true));
        }

        await using (var store = new FasterProfileStore(folder, options, NullLogger.Instance))
        {
            Assert.NotNull(await store.RecoverAsync());
            for (var v = 0; v < Visitors; v++)
            {
                Assert.Equal(expected[v], (await store.GetAsync("s", $"visitor-{v}"))?.PageViews ?? 0);
            }
        }
    }
}

using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Events;
using Personalizer.Engine.Storage;
using static Personalizer.Engine.Tests.TestData;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Catalog;

namespace Personalizer.Engine.Tests.Pipeline;

public sealed class LedgerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task SubmittedEventsAreFoldedIntoTheProfile()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        var outcome = await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1"), Event("e2", EventType.PageView, "v1")]));

        Assert.Equal(2, outcome.Applied);
        Assert.Equal(2, (await h.ProfileAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task ARecordNobodyWaitsForSharesTheCommitOfTheNextAwaitedOne()
    {
        // A background interval far longer than the test: only an awaited record can bring the commit.
        await using var h = await LedgerHarness.StartAsync(_folder.Path, backgroundCommit: TimeSpan.FromHours(1));
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e0", EventType.PageView, "v0")]));
        var shown = h.Ledger.SubmitInBackground(new ImpressionBatchRecord("s", [new Impression("d-1", "v1", T0, [new SlotImpression("hero", "a", null, "default")])]));
        await Task.Delay(300);
        Assert.False(shown.IsCompleted, "a background record was applied without a commit to share");
        var committed = h.Log.CommittedUntilAddress;

        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")])).WaitAsync(TimeSpan.FromSeconds(30));
        await shown.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(h.Log.CommittedUntilAddress > committed);
        var profile = (await h.ProfileAsync("s", "v1"))!;
        Assert.Equal(1, profile.PageViews);
        Assert.Contains(profile.Attribution!.Shown, s => s.SlotId == "hero");
    }

    /// <summary>An event log whose commits fail while <see cref="Failing"/> is set, as on a full disk.</summary>
    private sealed class FailingLog(IEventLog inner) : IEventLog
    {
        public volatile bool Failing;

        public ValueTask CommitAsync(CancellationToken ct = default) =>
            Failing ? ValueTask.FromException(new IOException("No space left on device")) : inner.CommitAsync(ct);

        public long Enqueue(ReadOnlySpan<byte> entry) => inner.Enqueue(entry);
        public void Reopen() => inner.Reopen();
        public void TruncateUntil(long address) => inner.TruncateUntil(address);
        public long SegmentSize => inner.SegmentSize;
        public long TailAddress => inner.TailAddress;
        public long CommittedUntilAddress => inner.CommittedUntilAddress;
        public long BeginAddress => inner.BeginAddress;
        public IEnumerable<LogEntry> Scan(long from) => inner.Scan(from);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task AfterAFailedCommitWritesResumeWithoutAnythingElseArriving()
    {
        FailingLog? failing = null;
        await using var h = await LedgerHarness.StartAsync(_folder.Path, log: inner => failing = new FailingLog(inner));
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")]));

        failing!.Failing = true;
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e2", EventType.PageView, "v1")])));
        failing.Failing = false;

        // Nobody writes (every write would be refused) and no checkpoint is due: the applier probes and reopens by itself.
        Assert.True(SpinWait.SpinUntil(() => h.Ledger.WritesRefused is null, TimeSpan.FromSeconds(30)), h.Ledger.WritesRefused);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e3", EventType.PageView, "v1")]));
        Assert.Equal(2, (await h.ProfileAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task ARepeatedEventIdIsAppliedOnce()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")]));
        var again = await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1"), Event("e1", EventType.PageView, "v1")]));

        Assert.Equal(2, again.Duplicates);
        Assert.Equal(1, (await h.ProfileAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task EventIdsAreScopedBySite()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("a", [Event("e1", EventType.PageView, "v1")]));
        var other = await h.Ledger.SubmitAsync(new EventBatchRecord("b", [Event("e1", EventType.PageView, "v1")]));

        Assert.Equal(1, other.Applied);
        Assert.Equal(1, (await h.ProfileAsync("b", "v1"))!.PageViews);
    }

    [Fact]
    public async Task AGracefulRestartKeepsEverything()
    {
        await using (var h = await LedgerHarness.StartAsync(_folder.Path))
        {
            await h.Ledger.SubmitAsync(new CatalogUpsertRecord("s", [Item("i1", "shoes")]));
            await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.ProductView, "v1", item: "i1")]));
        }
        await using var again = await LedgerHarness.StartAsync(_folder.Path);

        var p = await again.ProfileAsync("s", "v1");
        Assert.Equal(1, p!.ProductViews);
        Assert.NotNull(again.Catalog.Get("s").Find("i1"));
        Assert.Equal("i1", Assert.Single(again.Trending.Top("s")).ItemId);
    }

    [Fact]
    public async Task ACrashAfterACheckpointReplaysTheRestExactlyOnce()
    {
        var h = await LedgerHarness.StartAsync(_folder.Path);
        for (var i = 0; i < 50; i++)
        {
            await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event($"a{i}", EventType.PageView, "v1"), Event($"b{i}", EventType.PageView, $"v{i % 7}")]));
            if (i == 20)
            {
                Assert.True(await h.Ledger.CheckpointAsync());
            }
        }
        await h.CrashAsync();

        await using var again = await LedgerHarness.StartAsync(_folder.Path);
        var total = 0;
        for (var v = 0; v < 7; v++)
        {
            total += (await again.ProfileAsync("s", $"v{v}"))?.PageViews ?? 0;
        }
        Assert.Equal(100, total);
        Assert.Equal(50 + 7, (await again.ProfileAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task ACrashBeforeAnyCheckpointRebuildsFromTheLog()
    {
        var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")]));
        await h.CrashAsync();

        await using var again = await LedgerHarness.StartAsync(_folder.Path);
        Assert.Equal(1, (await again.ProfileAsync("s", "v1"))!.PageViews);
    }

    [Fact]
    public async Task AnErasureIsNotUndoneByReplay()
    {
        var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")]));
        await h.Ledger.CheckpointAsync();
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e2", EventType.PageView, "v1")]));
        var erased = await h.Ledger.SubmitAsync(new EraseProfileRecord("s", "v1", T0));
        await h.CrashAsync();

        await using var again = await LedgerHarness.StartAsync(_folder.Path);
        Assert.True(erased.Found);
        Assert.Null(await again.ProfileAsync("s", "v1"));
        // The same events sent again are duplicates, not new behaviour.
        var resent = await again.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e1", EventType.PageView, "v1")]));
        Assert.Equal(1, resent.Duplicates);
        Assert.Null(await again.ProfileAsync("s", "v1"));
    }

    [Fact]
    public async Task IdentifyMergesASecondDeviceIntoTheCustomersProfile()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [
            Event("e1", EventType.PageView, "phone"),
            new TrackedEvent { EventId = "e2", Type = EventType.Identify, VisitorId = "phone", CustomerId = "c1", Timestamp = T0 },
            Event("e3", EventType.PageView, "laptop"),
            Event("e4", EventType.PageView, "laptop"),
        ]));
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [
            new TrackedEvent { EventId = "e5", Type = EventType.Identify, VisitorId = "laptop", CustomerId = "c1", Timestamp = T0 },
            Event("e6", EventType.PageView, "laptop"),
        ]));

        var view = await h.ProfileAsync("s", "phone");
        Assert.Equal("c1", view!.CustomerId);
        Assert.Equal(4, view.PageViews);
        Assert.Contains("laptop", view.MergedVisitorIds);
        Assert.Equal("phone", (await h.ProfileAsync("s", "laptop"))!.MergedInto);
    }
}

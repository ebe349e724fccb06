using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Tests.Pipeline;
using static Personalizer.Engine.Tests.TestData;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Recommendations;

public sealed class EventExportTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task TheExportHoldsTheSitesEventsWithoutErasedVisitorsAndReadsBackAsInteractions()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [
            Event("e1", EventType.ProductView, "keep", item: "i1"),
            Event("e2", EventType.AddToCart, "keep", item: "i2"),
            Event("e3", EventType.ProductView, "gone", item: "i3"),
            new TrackedEvent { EventId = "e4", Type = EventType.Purchase, VisitorId = "keep", Timestamp = T0, OrderId = "o", Lines = [new OrderLine { ItemId = "i4", Quantity = 1, Price = 2 }], Revenue = 2 },
        ]));
        await h.Ledger.SubmitAsync(new EventBatchRecord("other", [Event("x1", EventType.ProductView, "keep", item: "i9")]));
        await h.Ledger.SubmitAsync(new EraseProfileRecord("s", "gone", T0));

        var path = Path.Combine(_folder.Path, "export.jsonl");
        await using (var writer = new StreamWriter(path))
        {
            Assert.Equal(3, EventExport.Write(h.Log, h.Registry.Types, "s", writer));
        }
        var ratings = OfflineEvaluation.ReadEvents(path, new InteractionWeights());

        Assert.Equal(["i1", "i2", "i4"], ratings.Select(r => r.Item).ToArray());
        Assert.Equal([1f, 3f, 5f], ratings.Select(r => r.Value).ToArray());
        Assert.All(ratings, r => Assert.Equal("keep", r.User));
    }
}

using Personalizer.Engine.Configuration;
using Personalizer.Engine.Events;
using Personalizer.Engine.Storage;
using static Personalizer.Engine.Tests.TestData;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Pipeline;

/// <summary>Waiting messages survive a crash: rebuilt by replay, or restored from the checkpoint.</summary>
public sealed class TriggerRecoveryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ConfigChangeRecord Trigger() => new("s", new ConfigChange
    {
        Kind = ConfigChangeKind.PutTrigger,
        Id = "cart",
        Trigger = new TriggerDefinition { Id = "cart", Event = "add_to_cart", WaitMinutes = 30, CancelOn = "purchase", Webhook = "http://127.0.0.1:9/h", Secret = "0123456789abcdef" },
        At = T0,
    });

    private static EventBatchRecord Cart(string id, string visitor) => new("s", [Event(id, EventType.AddToCart, visitor, item: "i1")]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWaitingMessageSurvivesACrash(bool checkpointFirst)
    {
        var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(Trigger());
        await h.Ledger.SubmitAsync(Cart("e1", "v1"));
        await h.Ledger.SubmitAsync(Cart("e2", "v2"));
        await h.Ledger.SubmitAsync(new EventBatchRecord("s", [Event("e3", EventType.Purchase, "v2")]));
        Assert.Equal("v1", Assert.Single(h.Triggers.Pending).VisitorId);
        if (checkpointFirst)
        {
            Assert.True(await h.Ledger.CheckpointAsync());
        }
        await h.CrashAsync();

        await using var again = await LedgerHarness.StartAsync(_folder.Path);
        var message = Assert.Single(again.Triggers.Pending);
        Assert.Equal("v1", message.VisitorId);
        Assert.Equal(T0 + 30 * 60_000, message.DueAt);
    }
}

using MessagePack;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Profiles;

public sealed class ProfileCompatibilityTests
{
    /// <summary>The profile as an older release stored it: fewer keys, and a list shape since extended.</summary>
    [MessagePackObject]
    public sealed class ProfileV1
    {
        [Key(0)] public string VisitorId { get; set; } = "";
        [Key(1)] public string? CustomerId { get; set; }
        [Key(2)] public long FirstSeen { get; set; }
        [Key(3)] public long LastSeen { get; set; }
        [Key(4)] public int Sessions { get; set; }
        [Key(5)] public int PageViews { get; set; }
        [Key(6)] public List<ViewedItemV1> RecentlyViewed { get; set; } = [];
    }

    [MessagePackObject]
    public sealed class ViewedItemV1
    {
        [Key(0)] public string ItemId { get; set; } = "";
        [Key(1)] public long At { get; set; }
    }

    [Fact]
    public void BytesWrittenByAnOlderShapeStillRead()
    {
        var old = MessagePackSerializer.Serialize(new ProfileV1
        {
            VisitorId = "v-1", CustomerId = "c-1", FirstSeen = 1, LastSeen = 2, Sessions = 3, PageViews = 4,
            RecentlyViewed = [new ViewedItemV1 { ItemId = "i-1", At = 5 }],
        });

        var profile = MessagePackSerializer.Deserialize<VisitorProfile>(old);

        Assert.Equal("v-1", profile.VisitorId);
        Assert.Equal("c-1", profile.CustomerId);
        Assert.Equal(4, profile.PageViews);
        Assert.Equal("i-1", Assert.Single(profile.RecentlyViewed).ItemId);
        // Fields the old shape did not have keep their defaults.
        Assert.Empty(profile.Cart);
        Assert.True(profile.Preferences.PersonalizationEnabled);
        Assert.Equal(0, profile.AppliedSeq);
    }

    [Fact]
    public void TheCurrentShapeRoundTrips()
    {
        var p = new VisitorProfile { VisitorId = "v", Orders = 2, Revenue = 10.5, Cart = [new CartLine { ItemId = "i", Quantity = 2, Price = 3 }] };

        var back = MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(p));

        Assert.Equal(2, back.Orders);
        Assert.Equal(2, Assert.Single(back.Cart).Quantity);
    }

    [Fact]
    public void TheAttributionMemoryReadsLazilyAndWritesBackWhatItRead()
    {
        var stored = MessagePackSerializer.Serialize(new VisitorProfile
        {
            VisitorId = "v",
            Attribution = new AttributionMemory
            {
                Shown = [new ShownSlot { SlotId = "hero", Variant = "b", Source = "rule:r1", At = 7, Stage = "new", Segment = "champions" }],
                Exposures = [new Exposure { Experiment = "x", StartedAt = 1, Arm = "B", At = 8, Revenue = 2.5 }],
            },
        });

        // Read and written again without a look at the memory: the same bytes.
        var untouched = MessagePackSerializer.Deserialize<VisitorProfile>(stored);
        var again = MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(untouched));
        var memory = again.Attribution!;
        Assert.Equal("rule:r1", Assert.Single(memory.Shown).Source);
        Assert.Equal("champions", memory.Shown[0].Segment);
        Assert.Equal(2.5, Assert.Single(memory.Exposures).Revenue);

        // Changed after it was decoded: the change is what is written.
        memory.Shown.Add(new ShownSlot { SlotId = "recs", Variant = "(items)", Source = "recommendations", At = 9 });
        memory.Exposures.Clear();
        var changed = MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(again)).Attribution!;
        Assert.Equal(["hero", "recs"], changed.Shown.Select(s => s.SlotId));
        Assert.Empty(changed.Exposures);

        // Replaced without being read, and absent.
        var replaced = MessagePackSerializer.Deserialize<VisitorProfile>(stored);
        replaced.Attribution!.Exposures = [];
        Assert.Single(MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(replaced)).Attribution!.Shown);
        Assert.Null(MessagePackSerializer.Deserialize<VisitorProfile>(MessagePackSerializer.Serialize(new VisitorProfile { VisitorId = "w" })).Attribution);
    }
}

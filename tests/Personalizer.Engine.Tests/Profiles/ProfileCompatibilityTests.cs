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
}

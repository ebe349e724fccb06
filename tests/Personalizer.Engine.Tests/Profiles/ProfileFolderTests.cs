using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using static Personalizer.Engine.Tests.TestData;

namespace Personalizer.Engine.Tests.Profiles;

public sealed class ProfileFolderTests
{
    private static readonly CatalogSnapshot Catalog = new([Item("shoe", "running", "shoes"), Item("mat", "yoga")]);
    private static readonly FoldSettings Settings = new(RecentlyViewedLimit: 3);

    private static VisitorProfile Fold(params TrackedEvent[] events)
    {
        var p = new VisitorProfile { VisitorId = "v" };
        foreach (var e in events)
        {
            ProfileFolder.Fold(p, e, Catalog, Settings);
        }
        return p;
    }

    [Fact]
    public void APageViewCountsAndStartsASession()
    {
        var p = Fold(Event("1", EventType.PageView, "v"), Event("2", EventType.PageView, "v", T0 + 60_000));

        Assert.Equal(2, p.PageViews);
        Assert.Equal(1, p.Sessions);
        Assert.Equal(T0, p.FirstSeen);
        Assert.Equal(T0 + 60_000, p.LastSeen);
    }

    [Fact]
    public void ThirtyMinutesOfSilenceStartAnotherSession()
    {
        var p = Fold(Event("1", EventType.PageView, "v"), Event("2", EventType.PageView, "v", T0 + 31 * 60_000));

        Assert.Equal(2, p.Sessions);
    }

    [Fact]
    public void AProductViewIsRememberedMostRecentFirstAndBounded()
    {
        var p = Fold(
            Event("1", EventType.ProductView, "v", T0, "a"),
            Event("2", EventType.ProductView, "v", T0 + 1, "b"),
            Event("3", EventType.ProductView, "v", T0 + 2, "c"),
            Event("4", EventType.ProductView, "v", T0 + 3, "d"),
            Event("5", EventType.ProductView, "v", T0 + 4, "b"));

        Assert.Equal(["b", "d", "c"], p.RecentlyViewed.Select(v => v.ItemId).ToArray());
        Assert.Equal(5, p.ProductViews);
    }

    [Fact]
    public void AProductViewRaisesTheAffinityOfItsCategories()
    {
        var p = Fold(Event("1", EventType.ProductView, "v", T0, "shoe"));

        Assert.Equal(["running", "shoes"], p.Affinity.Select(a => a.Category).ToArray());
        Assert.Equal(ProfileFolder.ViewWeight, p.Affinity[0].Score);
    }

    [Fact]
    public void AffinityHalvesAfterOneHalfLife()
    {
        var p = Fold(Event("1", EventType.ProductView, "v", T0, "mat"));

        var later = T0 + (long)(Settings.AffinityHalfLifeDays * 86_400_000);
        Assert.Equal(0.5, ProfileFolder.AffinityAt(p.Affinity[0], later, Settings.AffinityHalfLifeDays * 86_400_000), 6);
    }

    [Fact]
    public void AddToCartAddsOrIncreasesALine()
    {
        var p = Fold(
            Event("1", EventType.AddToCart, "v", T0, "shoe"),
            new TrackedEvent { EventId = "2", Type = EventType.AddToCart, VisitorId = "v", Timestamp = T0, ItemId = "shoe", Quantity = 2, Price = 50 });

        var line = Assert.Single(p.Cart);
        Assert.Equal(3, line.Quantity);
        Assert.Equal(50, line.Price);
    }

    [Fact]
    public void RemoveFromCartWithoutAQuantityRemovesTheLine()
    {
        var p = Fold(Event("1", EventType.AddToCart, "v", T0, "shoe"), Event("2", EventType.RemoveFromCart, "v", T0, "shoe"));

        Assert.Empty(p.Cart);
    }

    [Fact]
    public void APurchaseCountsTheOrderAndEmptiesItsLinesFromTheCart()
    {
        var p = Fold(
            Event("1", EventType.AddToCart, "v", T0, "shoe"),
            Event("2", EventType.AddToCart, "v", T0, "mat"),
            new TrackedEvent
            {
                EventId = "3", Type = EventType.Purchase, VisitorId = "v", Timestamp = T0 + 5, OrderId = "o1",
                Lines = [new OrderLine { ItemId = "shoe", Quantity = 1, Price = 59.9 }], Revenue = 59.9, Currency = "EUR",
            });

        Assert.Equal(1, p.Orders);
        Assert.Equal(59.9, p.Revenue);
        Assert.Equal(T0 + 5, p.LastOrderAt);
        Assert.Equal("o1", p.LastOrderId);
        Assert.Equal(["shoe"], p.PurchasedItems);
        Assert.Equal("mat", Assert.Single(p.Cart).ItemId);
    }

    [Fact]
    public void ASearchIsRemembered()
    {
        var p = Fold(new TrackedEvent { EventId = "1", Type = EventType.Search, VisitorId = "v", Timestamp = T0, Query = "trail" });

        Assert.Equal(["trail"], p.RecentSearches);
    }

    [Fact]
    public void ASlotClickCounts()
    {
        var p = Fold(new TrackedEvent { EventId = "1", Type = EventType.SlotClick, VisitorId = "v", Timestamp = T0, SlotId = "home-recs", ItemId = "mat" });

        Assert.Equal(1, p.SlotClicks);
        Assert.Equal("yoga", Assert.Single(p.Affinity).Category);
    }

    [Fact]
    public void IdentifySetsTheCustomerId()
    {
        var p = Fold(new TrackedEvent { EventId = "1", Type = EventType.Identify, VisitorId = "v", Timestamp = T0, CustomerId = "c-1" });

        Assert.Equal("c-1", p.CustomerId);
    }

    [Fact]
    public void FoldingIsDeterministic()
    {
        TrackedEvent[] events = [Event("1", EventType.ProductView, "v", T0, "shoe"), Event("2", EventType.AddToCart, "v", T0 + 9, "mat")];

        Assert.Equal(
            MessagePack.MessagePackSerializer.Serialize(Fold(events)),
            MessagePack.MessagePackSerializer.Serialize(Fold(events)));
    }
}

using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;

namespace Personalizer.Engine.Profiles;

/// <summary>Settings of the fold, fixed for a run.</summary>
public sealed record FoldSettings(
    int RecentlyViewedLimit = 20,
    int PurchasedItemsLimit = 100,
    int AffinityLimit = 30,
    double AffinityHalfLifeDays = 14,
    int SessionTimeoutMinutes = 30,
    int RecentSearchesLimit = 10,
    int ItemHistoryLimit = 1000)
{
    public static FoldSettings From(ProfileOptions o) => new(
        o.RecentlyViewedLimit, o.PurchasedItemsLimit, o.AffinityCategoriesLimit, o.AffinityHalfLifeDays, o.SessionTimeoutMinutes,
        ItemHistoryLimit: o.ItemHistoryLimit);

    internal double HalfLifeMs => AffinityHalfLifeDays * 86_400_000d;
}

/// <summary>
/// Folds one event into a profile. Deterministic: the result depends only on the profile, the event,
/// the catalogue snapshot and the settings (no clock, no I/O), so replaying the log rebuilds the same
/// profile. Identity merges span two profiles and live in <see cref="ProfileMerger"/>.
/// </summary>
public static class ProfileFolder
{
    public const double ViewWeight = 1;
    public const double ClickWeight = 1;
    public const double CartWeight = 3;
    public const double PurchaseWeight = 5;

    public static void Fold(VisitorProfile p, TrackedEvent e, CatalogSnapshot catalog, FoldSettings s)
    {
        Touch(p, e.Timestamp, s);
        switch (e.Type)
        {
            case EventType.PageView:
                p.PageViews++;
                break;
            case EventType.ProductView:
                p.ProductViews++;
                RememberView(p, e.ItemId!, e.Timestamp, s.RecentlyViewedLimit);
                TouchItem(p, e.ItemId!, e.Timestamp, s).Views++;
                AddAffinity(p, catalog.Find(e.ItemId), ViewWeight, e.Timestamp, s);
                break;
            case EventType.AddToCart:
                AddToCart(p, e, catalog.Find(e.ItemId));
                TouchItem(p, e.ItemId!, e.Timestamp, s).Carts++;
                AddAffinity(p, catalog.Find(e.ItemId), CartWeight, e.Timestamp, s);
                break;
            case EventType.RemoveFromCart:
                RemoveFromCart(p, e.ItemId!, e.Quantity);
                break;
            case EventType.Purchase:
                Purchase(p, e, catalog, s);
                break;
            case EventType.Search:
                PushFront(p.RecentSearches, e.Query!, s.RecentSearchesLimit);
                break;
            case EventType.SlotClick:
                p.SlotClicks++;
                if (e.ItemId is not null)
                {
                    TouchItem(p, e.ItemId, e.Timestamp, s).Clicks++;
                    AddAffinity(p, catalog.Find(e.ItemId), ClickWeight, e.Timestamp, s);
                }
                break;
            case EventType.Identify:
                p.CustomerId = e.CustomerId;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(e), e.Type, "Unknown event type.");
        }
    }

    /// <summary>The affinity score of a category at <paramref name="nowMs"/>, decayed from its last update.</summary>
    public static double AffinityAt(CategoryAffinity a, long nowMs, double halfLifeMs) =>
        nowMs <= a.UpdatedAt ? a.Score : a.Score * Math.Pow(2, -(nowMs - a.UpdatedAt) / halfLifeMs);

    private static void Touch(VisitorProfile p, long ts, FoldSettings s)
    {
        if (p.FirstSeen == 0 || ts < p.FirstSeen)
        {
            p.FirstSeen = ts;
        }
        if (p.LastEventAt == 0 || ts - p.LastEventAt > s.SessionTimeoutMinutes * 60_000L)
        {
            p.Sessions++;
        }
        p.LastEventAt = Math.Max(p.LastEventAt, ts);
        p.LastSeen = Math.Max(p.LastSeen, ts);
    }

    private static void RememberView(VisitorProfile p, string itemId, long ts, int limit)
    {
        var list = p.RecentlyViewed;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].ItemId == itemId)
            {
                if (list[i].At > ts)
                {
                    return; // a newer view of the same item is already first in its place
                }
                list.RemoveAt(i);
                break;
            }
        }
        var at = 0;
        while (at < list.Count && list[at].At > ts)
        {
            at++;
        }
        if (at >= limit)
        {
            return;
        }
        list.Insert(at, new ViewedItem { ItemId = itemId, At = ts });
        if (list.Count > limit)
        {
            list.RemoveRange(limit, list.Count - limit);
        }
    }

    private static void AddToCart(VisitorProfile p, TrackedEvent e, CatalogItem? item)
    {
        var quantity = Math.Max(1, e.Quantity);
        var price = e.Price > 0 ? e.Price : item?.Price ?? 0;
        foreach (var line in p.Cart)
        {
            if (line.ItemId == e.ItemId)
            {
                line.Quantity += quantity;
                line.Price = price;
                return;
            }
        }
        p.Cart.Add(new CartLine { ItemId = e.ItemId!, Quantity = quantity, Price = price, AddedAt = e.Timestamp });
    }

    private static void RemoveFromCart(VisitorProfile p, string itemId, int quantity)
    {
        for (var i = 0; i < p.Cart.Count; i++)
        {
            var line = p.Cart[i];
            if (line.ItemId != itemId)
            {
                continue;
            }
            // No quantity means the whole line.
            if (quantity <= 0 || quantity >= line.Quantity)
            {
                p.Cart.RemoveAt(i);
            }
            else
            {
                line.Quantity -= quantity;
            }
            return;
        }
    }

    private static void Purchase(VisitorProfile p, TrackedEvent e, CatalogSnapshot catalog, FoldSettings s)
    {
        p.Orders++;
        p.Revenue = Math.Round(p.Revenue + e.Revenue, 2);
        p.LastOrderAt = Math.Max(p.LastOrderAt, e.Timestamp);
        p.FirstOrderAt = p.FirstOrderAt == 0 ? e.Timestamp : Math.Min(p.FirstOrderAt, e.Timestamp);
        OrderDay.Add(p.OrderDays, (int)Math.Floor(e.Timestamp / 86_400_000d), e.Revenue);
        p.LastOrderId = e.OrderId;
        p.Currency = e.Currency ?? p.Currency;
        foreach (var line in e.Lines ?? [])
        {
            PushFront(p.PurchasedItems, line.ItemId, s.PurchasedItemsLimit);
            TouchItem(p, line.ItemId, e.Timestamp, s).Purchases++;
            AddAffinity(p, catalog.Find(line.ItemId), PurchaseWeight, e.Timestamp, s);
            RemoveFromCart(p, line.ItemId, 0);
        }
    }

    /// <summary>The visitor's entry for an item, made if new; past the limit the oldest unpurchased entry goes.</summary>
    internal static ItemTouch TouchItem(VisitorProfile p, string itemId, long ts, FoldSettings s)
    {
        var items = p.Items;
        foreach (var t in items)
        {
            if (string.Equals(t.ItemId, itemId, StringComparison.Ordinal))
            {
                t.At = Math.Max(t.At, ts);
                return t;
            }
        }
        var touch = new ItemTouch { ItemId = itemId, At = ts };
        items.Add(touch);
        if (items.Count > s.ItemHistoryLimit)
        {
            var oldest = -1;
            for (var i = 0; i < items.Count - 1; i++)
            {
                if (items[i].Purchases == 0 && (oldest < 0 || items[i].At < items[oldest].At))
                {
                    oldest = i;
                }
            }
            if (oldest >= 0)
            {
                items.RemoveAt(oldest);
            }
        }
        return touch;
    }

    private static void PushFront(List<string> list, string value, int limit)
    {
        list.Remove(value);
        list.Insert(0, value);
        if (list.Count > limit)
        {
            list.RemoveRange(limit, list.Count - limit);
        }
    }

    internal static void AddAffinity(VisitorProfile p, CatalogItem? item, double weight, long ts, FoldSettings s)
    {
        if (item is null)
        {
            return;
        }
        foreach (var category in item.Categories)
        {
            AddAffinity(p.Affinity, category, weight, ts, s);
        }
        if (!string.IsNullOrEmpty(item.Brand))
        {
            AddAffinity(p.BrandAffinity, item.Brand, weight, ts, s);
        }
        foreach (var tag in item.Tags)
        {
            AddAffinity(p.TagAffinity, tag, weight, ts, s);
        }
    }

    internal static void AddAffinity(List<CategoryAffinity> affinity, string category, double weight, long ts, FoldSettings s)
    {
        var halfLife = s.HalfLifeMs;
        CategoryAffinity? entry = null;
        foreach (var a in affinity)
        {
            if (a.Category == category)
            {
                entry = a;
                break;
            }
        }
        if (entry is null)
        {
            affinity.Add(new CategoryAffinity { Category = category, Score = weight, UpdatedAt = ts });
        }
        else if (ts >= entry.UpdatedAt)
        {
            entry.Score = AffinityAt(entry, ts, halfLife) + weight;
            entry.UpdatedAt = ts;
        }
        else
        {
            // An older event: its weight has decayed by the time of the entry.
            entry.Score += weight * Math.Pow(2, -(entry.UpdatedAt - ts) / halfLife);
        }

        if (affinity.Count > s.AffinityLimit)
        {
            var latest = affinity.Max(a => a.UpdatedAt);
            var weakest = 0;
            for (var i = 1; i < affinity.Count; i++)
            {
                if (AffinityAt(affinity[i], latest, halfLife) < AffinityAt(affinity[weakest], latest, halfLife))
                {
                    weakest = i;
                }
            }
            affinity.RemoveAt(weakest);
        }
    }
}

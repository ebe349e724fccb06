namespace Personalizer.Engine.Profiles;

/// <summary>Merges the profile of a visitor into the profile that holds their customer's single view.</summary>
public static class ProfileMerger
{
    public static void MergeInto(VisitorProfile target, VisitorProfile source, FoldSettings s)
    {
        target.FirstSeen = Min(target.FirstSeen, source.FirstSeen);
        target.FirstOrderAt = Min(target.FirstOrderAt, source.FirstOrderAt);
        target.LastSeen = Math.Max(target.LastSeen, source.LastSeen);
        target.LastEventAt = Math.Max(target.LastEventAt, source.LastEventAt);
        target.Sessions += source.Sessions;
        target.PageViews += source.PageViews;
        target.ProductViews += source.ProductViews;
        target.SlotClicks += source.SlotClicks;
        target.Orders += source.Orders;
        target.Revenue = Math.Round(target.Revenue + source.Revenue, 2);
        if (source.LastOrderAt > target.LastOrderAt)
        {
            target.LastOrderAt = source.LastOrderAt;
            target.LastOrderId = source.LastOrderId;
        }
        target.Currency ??= source.Currency;

        target.RecentlyViewed = [.. target.RecentlyViewed.Concat(source.RecentlyViewed)
            .GroupBy(v => v.ItemId).Select(g => g.MaxBy(v => v.At)!)
            .OrderByDescending(v => v.At).Take(s.RecentlyViewedLimit)];

        foreach (var line in source.Cart)
        {
            var existing = target.Cart.Find(l => l.ItemId == line.ItemId);
            if (existing is null)
            {
                target.Cart.Add(line);
            }
            else
            {
                existing.Quantity += line.Quantity;
            }
        }

        target.PurchasedItems = [.. target.PurchasedItems.Concat(source.PurchasedItems).Distinct().Take(s.PurchasedItemsLimit)];
        target.RecentSearches = [.. target.RecentSearches.Concat(source.RecentSearches).Distinct().Take(s.RecentSearchesLimit)];

        foreach (var (into, from) in new[] { (target.Affinity, source.Affinity), (target.BrandAffinity, source.BrandAffinity), (target.TagAffinity, source.TagAffinity) })
        {
            foreach (var a in from)
            {
                ProfileFolder.AddAffinity(into, a.Category, a.Score, a.UpdatedAt, s);
            }
        }

        // Privacy wins a conflict: the more restrictive choice of the two is kept.
        var tp = target.Preferences;
        var sp = source.Preferences;
        tp.PersonalizationEnabled &= sp.PersonalizationEnabled;
        if (sp.Tracking == TrackingConsent.Denied || tp.Tracking == TrackingConsent.Unknown)
        {
            tp.Tracking = sp.Tracking;
        }
        tp.ExcludedCategories = [.. tp.ExcludedCategories.Union(sp.ExcludedCategories)];
        tp.Interests = [.. tp.Interests.Union(sp.Interests)];

        if (!target.MergedVisitorIds.Contains(source.VisitorId))
        {
            target.MergedVisitorIds.Add(source.VisitorId);
        }
        foreach (var id in source.MergedVisitorIds)
        {
            if (!target.MergedVisitorIds.Contains(id) && id != target.VisitorId)
            {
                target.MergedVisitorIds.Add(id);
            }
        }
    }

    private static long Min(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);
}

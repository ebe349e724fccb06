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
        foreach (var day in source.OrderDays)
        {
            OrderDay.Add(target.OrderDays, day.Day, day.Amount);
        }

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
        foreach (var t in source.Items)
        {
            var into = ProfileFolder.TouchItem(target, t.ItemId, t.At, s);
            into.Views += t.Views;
            into.Clicks += t.Clicks;
            into.Carts += t.Carts;
            into.Purchases += t.Purchases;
        }
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

        MergeAttribution(target, source);

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

    /// <summary>Per slot the later impression, per experiment the earlier exposure (a visitor is exposed once).</summary>
    private static void MergeAttribution(VisitorProfile target, VisitorProfile source)
    {
        if (source.Attribution is not { } from)
        {
            return;
        }
        var into = target.Attribution ??= new AttributionMemory();
        foreach (var shown in from.Shown)
        {
            var i = into.Shown.FindIndex(s => s.SlotId == shown.SlotId);
            if (i < 0)
            {
                into.Shown.Add(shown);
            }
            else if (into.Shown[i].At < shown.At)
            {
                into.Shown[i] = shown;
            }
        }
        foreach (var exposure in from.Exposures)
        {
            var i = into.Exposures.FindIndex(e => e.Experiment == exposure.Experiment && e.StartedAt == exposure.StartedAt);
            if (i < 0)
            {
                into.Exposures.Add(exposure);
            }
            else if (into.Exposures[i].At > exposure.At)
            {
                into.Exposures[i] = exposure;
            }
        }
        into.Shown = [.. into.Shown.OrderByDescending(s => s.At).Take(AttributionMemory.MaxSlots)];
        into.Exposures = [.. into.Exposures.OrderByDescending(e => e.At).Take(AttributionMemory.MaxExposures)];
    }

    private static long Min(long a, long b) => a == 0 ? b : b == 0 ? a : Math.Min(a, b);
}

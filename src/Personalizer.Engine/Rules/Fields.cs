using System.Collections.Frozen;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Rules;

public enum ConditionType
{
    Bool,
    Number,
    Text,
    Duration,
    StringList,
    NumberList,
}

/// <summary>A field conditions can read: its type, what it means, and how to read it without allocating.</summary>
public sealed record FieldInfo(string Path, ConditionType Type, string Description)
{
    internal Func<EvalContext, double>? Number { get; init; }
    internal Func<EvalContext, string>? Text { get; init; }
    internal Func<EvalContext, bool>? Flag { get; init; }
    /// <summary>For list fields: membership of one value.</summary>
    internal Func<EvalContext, string, bool>? Has { get; init; }
}

/// <summary>The documented field list (docs/conditions.md is written from it).</summary>
public static class Fields
{
    /// <summary>What <c>profile.daysSinceLastPurchase</c> reads for a visitor who never bought.</summary>
    public const double Never = 100_000;

    private static readonly string[] Weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

    public static FrozenDictionary<string, FieldInfo> All { get; } = Build().ToFrozenDictionary(f => f.Path, StringComparer.Ordinal);

    private static IEnumerable<FieldInfo> Build()
    {
        yield return Str("profile.visitorId", "the visitor id", c => c.Profile?.VisitorId ?? "");
        yield return Str("profile.customerId", "the customer id after identify, else ''", c => c.Profile?.CustomerId ?? "");
        yield return Bool("profile.identified", "true once the visitor identified as a customer", c => c.Profile?.CustomerId is not null);
        yield return Bool("profile.known", "true when a profile exists (the visitor was seen before)", c => c.Profile is not null);
        yield return Num("profile.sessions", "number of sessions (30 minutes of silence end one)", c => c.Profile?.Sessions ?? 0);
        yield return Num("profile.pageViews", "page views", c => c.Profile?.PageViews ?? 0);
        yield return Num("profile.productViews", "product views", c => c.Profile?.ProductViews ?? 0);
        yield return Num("profile.clicks", "clicks on personalized slots", c => c.Profile?.SlotClicks ?? 0);
        yield return Num("profile.orders", "orders placed", c => c.Profile?.Orders ?? 0);
        yield return Num("profile.revenue", "revenue of all orders", c => c.Profile?.Revenue ?? 0);
        yield return Num("profile.averageOrderValue", "revenue / orders (0 without orders)", c => c.Profile is { Orders: > 0 } p ? p.Revenue / p.Orders : 0);
        yield return Num("profile.cart.value", "value of the cart (price × quantity)", c => c.CartValue);
        yield return Num("profile.cart.items", "number of lines in the cart", c => c.Profile?.Cart.Count ?? 0);
        yield return Num("profile.daysSinceLastPurchase", $"days since the last order ({Never} without orders)",
            c => c.Profile is { LastOrderAt: > 0 } p ? (c.NowMs - p.LastOrderAt) / 86_400_000d : Never);
        yield return Num("profile.daysSinceFirstSeen", "days since the first event (0 for a new visitor)",
            c => c.Profile is { FirstSeen: > 0 } p ? (c.NowMs - p.FirstSeen) / 86_400_000d : 0);
        yield return Num("profile.minutesSinceLastSeen", "minutes since the last event (0 for a new visitor)",
            c => c.Profile is { LastSeen: > 0 } p ? (c.NowMs - p.LastSeen) / 60_000d : 0);
        yield return Str("profile.affinity.top", "the category with the highest decayed affinity, else ''", c => c.TopCategory);
        yield return Num("profile.affinity.topScore", "the decayed affinity score of that category", c => c.TopCategoryScore);
        yield return Str("profile.affinity.topBrand", "the brand with the highest decayed affinity, else ''", c => c.TopBrand);
        yield return Str("profile.affinity.topTag", "the item tag with the highest decayed affinity, else ''", c => c.TopTag);
        yield return Str("profile.lifecycle", "lifecycle stage: visitor, engaged_prospect, first_time_customer, repeat_customer, loyal, at_risk, lapsed (docs/crm.md)", c => c.Insight.Lifecycle);
        yield return Str("profile.rfm.segment", "RFM segment (champions, loyal, … lost; docs/crm.md), '' without orders", c => c.Insight.Rfm?.Segment ?? "");
        yield return Num("profile.rfm.r", "recency score 1–5 against the site's customers (5: most recent), 0 without orders", c => c.Insight.Rfm?.R ?? 0);
        yield return Num("profile.rfm.f", "frequency score 1–5 (orders), 0 without orders", c => c.Insight.Rfm?.F ?? 0);
        yield return Num("profile.rfm.m", "monetary score 1–5 (revenue), 0 without orders", c => c.Insight.Rfm?.M ?? 0);
        yield return Num("profile.clv.expected90d", "expected orders in the next 90 days (BG/NBD), 0 without a fitted model", c => c.Insight.Clv?.ExpectedPurchases90d ?? 0);
        yield return Num("profile.clv.pAlive", "probability the customer is still active (BG/NBD), 0 without orders or model", c => c.Insight.Clv?.ProbabilityAlive ?? 0);
        yield return Num("profile.clv.value1y", "predicted revenue of the next 12 months (BG/NBD × Gamma-Gamma)", c => c.Insight.Clv?.PredictedValue1y ?? 0);
        yield return Bool("profile.personalization", "false when the visitor switched personalization off", c => c.Profile?.Preferences.PersonalizationEnabled ?? true);
        yield return List("profile.purchasedItems", "ids of purchased items (most recent 100)", (c, v) => c.Profile?.PurchasedItems.Contains(v) ?? false);
        yield return List("profile.viewedItems", "ids of recently viewed items", static (c, v) =>
        {
            foreach (var x in c.Profile?.RecentlyViewed ?? [])
            {
                if (x.ItemId == v)
                {
                    return true;
                }
            }
            return false;
        });
        yield return List("profile.cartItems", "ids of the items in the cart", static (c, v) =>
        {
            foreach (var x in c.Profile?.Cart ?? [])
            {
                if (x.ItemId == v)
                {
                    return true;
                }
            }
            return false;
        });
        yield return List("profile.searches", "recent search queries", (c, v) => c.Profile?.RecentSearches.Contains(v, StringComparer.OrdinalIgnoreCase) ?? false);
        yield return List("profile.interests", "interests the visitor chose", (c, v) => c.Profile?.Preferences.Interests.Contains(v) ?? false);
        yield return Str("context.url", "the page URL", c => c.Request.Url ?? "");
        yield return Str("context.referrer", "the referrer", c => c.Request.Referrer ?? "");
        yield return Str("context.device", "the device the page reports (e.g. mobile, desktop)", c => c.Request.Device ?? "");
        yield return Str("context.country", "the country the page reports", c => c.Request.Country ?? "");
        yield return Str("context.language", "the language the page reports", c => c.Request.Language ?? "");
        yield return Num("now.hour", "hour of the day, 0–23 (UTC)", c => c.Now.Hour);
        yield return Str("now.weekday", "day of the week, lower case English (UTC)", c => Weekdays[(int)c.Now.DayOfWeek]);
        yield return Str("now.date", "the date as YYYY-MM-DD (UTC); compare with <, >", c => c.NowDate);
        yield return Num("now.month", "month, 1–12 (UTC)", c => c.Now.Month);
        yield return Num("now.day", "day of the month, 1–31 (UTC)", c => c.Now.Day);
    }

    /// <summary><c>context.utm.NAME</c> and <c>context.NAME</c> for any custom attribute the page sends.</summary>
    internal static FieldInfo? Dynamic(string path)
    {
        if (path.StartsWith("context.utm.", StringComparison.Ordinal) && path.Length > 12 && Ids.IsValid(path[12..]))
        {
            var name = path[12..];
            return Str(path, "a UTM parameter", c => c.Request.Utm is { } u && u.TryGetValue(name, out var v) ? v : "");
        }
        if (path.StartsWith("context.", StringComparison.Ordinal) && path.IndexOf('.', 8) < 0 && path.Length > 8)
        {
            var name = path[8..];
            return Str(path, "a custom attribute of the page", c => c.Request.Attributes is { } a && a.TryGetValue(name, out var v) ? v : "");
        }
        return null;
    }

    /// <summary>The known field nearest to a misspelt one (Levenshtein distance).</summary>
    internal static string? Nearest(string path)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in All.Keys)
        {
            var d = Distance(path, name);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = name;
            }
        }
        return bestDistance <= Math.Max(3, path.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static FieldInfo Num(string path, string description, Func<EvalContext, double> read) => new(path, ConditionType.Number, description) { Number = read };
    private static FieldInfo Str(string path, string description, Func<EvalContext, string> read) => new(path, ConditionType.Text, description) { Text = read };
    private static FieldInfo Bool(string path, string description, Func<EvalContext, bool> read) => new(path, ConditionType.Bool, description) { Flag = read };
    private static FieldInfo List(string path, string description, Func<EvalContext, string, bool> has) => new(path, ConditionType.StringList, description) { Has = has };

    /// <summary>Whether an item id or one of the item's categories equals <paramref name="value"/>.</summary>
    internal static bool Matches(CatalogSnapshot catalog, string itemId, string value)
    {
        if (itemId == value)
        {
            return true;
        }
        if (catalog.Find(itemId) is { } item)
        {
            foreach (var category in item.Categories)
            {
                if (category == value)
                {
                    return true;
                }
            }
        }
        return false;
    }
}

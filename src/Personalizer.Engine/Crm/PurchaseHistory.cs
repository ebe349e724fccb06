using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Crm;

/// <summary>One day on which a customer bought: the models' transaction (same-day orders are one).</summary>
public readonly record struct PurchaseDay(int Day, double Amount, int Orders);

/// <summary>One customer's purchase days, ascending, each day once.</summary>
public sealed class CustomerPurchases(string id, PurchaseDay[] days)
{
    public string Id { get; } = id;
    public PurchaseDay[] Days { get; } = days;

    /// <summary>Days up to <paramref name="asOfDay"/> (inclusive).</summary>
    public int CountUpTo(int asOfDay)
    {
        var n = 0;
        while (n < Days.Length && Days[n].Day <= asOfDay)
        {
            n++;
        }
        return n;
    }

    /// <summary>
    /// The models' summary as of a day, in days: x = purchase days after the first, t_x = days from
    /// the first to the last, T = days from the first to <paramref name="asOfDay"/>, and the mean
    /// spend of the repeat days (the first day is not a repeat transaction).
    /// </summary>
    public CustomerSummary Summary(int asOfDay)
    {
        var n = CountUpTo(asOfDay);
        var repeatSpend = 0d;
        for (var i = 1; i < n; i++)
        {
            repeatSpend += Days[i].Amount;
        }
        return new CustomerSummary(n - 1, Days[n - 1].Day - Days[0].Day, Math.Max(asOfDay - Days[0].Day, 1e-6), n > 1 ? repeatSpend / (n - 1) : 0);
    }

    /// <summary>Purchase days in (<paramref name="afterDay"/>, <paramref name="untilDay"/>].</summary>
    public int DaysBetween(int afterDay, int untilDay)
    {
        var n = 0;
        foreach (var d in Days)
        {
            n += d.Day > afterDay && d.Day <= untilDay ? 1 : 0;
        }
        return n;
    }
}

/// <summary>What the refit reads of one site's history.</summary>
public sealed record SiteHistory(List<CustomerPurchases> Customers, int LastDay, int Visitors, int EngagedVisitors)
{
    public static SiteHistory Empty { get; } = new([], int.MinValue, 0, 0);
}

/// <summary>
/// Reads every site's purchases from the whole history (archive and log tail) per <em>customer</em>:
/// visitors linked to a customer id (by <c>identify</c>, or an event carrying the id) count as one,
/// as their profiles are merged. Erased visitors and visitors who refused tracking are left out, with
/// the customer they belong to. Days are UTC calendar days since 1970-01-01.
/// </summary>
public static class PurchaseHistory
{
    public static int DayOf(long unixMs) => (int)Math.Floor(unixMs / CustomerInsights.DayMs);

    public static DateOnly DateOf(int day) => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + day);

    public static int DayOf(DateOnly date) => date.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private sealed class SiteState
    {
        public readonly Dictionary<string, Dictionary<int, (double Amount, int Orders)>> ByVisitor = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> CustomerOf = new(StringComparer.Ordinal);
        public readonly HashSet<string> Excluded = new(StringComparer.Ordinal);
        /// <summary>Per visitor: product views (saturating at 255), and 255 once they added to a cart: the funnel's prospects.</summary>
        public readonly Dictionary<string, byte> Interest = new(StringComparer.Ordinal);
        public int LastDay = int.MinValue;

        public void Add(TrackedEvent e)
        {
            LastDay = Math.Max(LastDay, DayOf(e.Timestamp));
            if (e.CustomerId is { Length: > 0 } customer)
            {
                CustomerOf[e.VisitorId] = customer;
            }
            var seen = Interest.GetValueOrDefault(e.VisitorId);
            Interest[e.VisitorId] = e.Type switch
            {
                EventType.AddToCart => byte.MaxValue,
                EventType.ProductView when seen < byte.MaxValue => (byte)(seen + 1),
                _ => seen,
            };
            if (e.Type == EventType.Purchase)
            {
                AddPurchases(e.VisitorId, DayOf(e.Timestamp), e.Revenue, 1);
            }
        }

        /// <summary>
        /// Archived visitors without a customer id (most of a shop's visitors), held compactly until the whole history is read:
        /// those that the tail, an erasure or a purchase names again are claimed back into the tables above by
        /// <see cref="ClaimArchived"/>; the rest are each a visitor of their own, counted and never looked up.
        /// </summary>
        public readonly VisitorTable Archived = new();

        /// <summary>A visitor's archived events in sum: what <see cref="Add"/> of each would have left.</summary>
        public void Add(in ArchivedActivity a)
        {
            LastDay = Math.Max(LastDay, DayOf(a.LastEventAt));
            var interest = a.AddedToCart ? byte.MaxValue : (byte)Math.Min(a.ProductViews, byte.MaxValue);
            if (a.CustomerId is { Length: > 0 } customer)
            {
                CustomerOf[a.VisitorId] = customer;
            }
            else if (Archived.TryAdd(a.VisitorId, interest))
            {
                return;
            }
            Interest[a.VisitorId] = interest;
        }

        /// <summary>
        /// Moves every compactly held archived visitor that the tables name into <see cref="Interest"/>. The archive comes before the
        /// tail, so a visitor's interest is the archived one, then the tail's events: a cart (255) stays, views add up to 255.
        /// </summary>
        public void ClaimArchived()
        {
            if (Archived.Count == 0)
            {
                return;
            }
            Archived.Index();
            var named = new HashSet<string>(Interest.Keys, StringComparer.Ordinal);
            named.UnionWith(CustomerOf.Keys);
            named.UnionWith(Excluded);
            named.UnionWith(ByVisitor.Keys);
            foreach (var visitor in named)
            {
                if (Archived.TryClaim(visitor, out var archived))
                {
                    Interest[visitor] = (byte)Math.Min(archived + Interest.GetValueOrDefault(visitor), byte.MaxValue);
                }
            }
        }

        public void AddPurchases(string visitor, int day, double revenue, int orders)
        {
            if (!ByVisitor.TryGetValue(visitor, out var days))
            {
                ByVisitor[visitor] = days = [];
            }
            var (amount, count) = days.GetValueOrDefault(day);
            days[day] = (amount + revenue, count + orders);
        }
    }

    /// <summary>
    /// Per site: the customers, the last day the history holds any event, and the visitors and engaged prospects (3+ product
    /// views or a cart) seen. The archive is summed per visitor by DuckDB; the log's tail is read event by event.
    /// </summary>
    public static Dictionary<string, SiteHistory> Read(EventHistory history, CancellationToken ct)
    {
        var sites = new Dictionary<string, SiteState>(StringComparer.Ordinal);
        var records = history.ReadSummarized(site: null, a => Site(sites, a.Site).Add(a), p => Site(sites, p.Site).AddPurchases(p.VisitorId, p.Day, p.Revenue, p.Orders), ct);
        return Summarize(sites, records);
    }

    /// <summary>As <see cref="Read"/>, with every archived event read back one by one: what the summed read is held to.</summary>
    internal static Dictionary<string, SiteHistory> ReadEventByEvent(EventHistory history, CancellationToken ct) =>
        Summarize(new Dictionary<string, SiteState>(StringComparer.Ordinal), history.Read(site: null, ct));

    private static SiteState Site(Dictionary<string, SiteState> sites, string id)
    {
        if (!sites.TryGetValue(id, out var s))
        {
            sites[id] = s = new SiteState();
        }
        return s;
    }

    private static Dictionary<string, SiteHistory> Summarize(Dictionary<string, SiteState> sites, IEnumerable<(long Seq, LogRecord Record)> records)
    {
        foreach (var (_, record) in records)
        {
            switch (record)
            {
                case EventBatchRecord batch:
                    var state = Site(sites, batch.SiteId);
                    foreach (var e in batch.Events)
                    {
                        state.Add(e);
                    }
                    break;
                case EraseProfileRecord erase:
                    Site(sites, erase.SiteId).Excluded.Add(erase.VisitorId);
                    break;
                case PreferencesRecord preferences when preferences.Preferences.Tracking == TrackingConsent.Denied:
                    Site(sites, preferences.SiteId).Excluded.Add(preferences.VisitorId);
                    break;
            }
        }
        var result = new Dictionary<string, SiteHistory>(StringComparer.Ordinal);
        foreach (var (site, state) in sites)
        {
            state.ClaimArchived();
            var (alone, aloneEngaged) = state.Archived.CountUnclaimed(atLeast: 3);
            string Key(string visitor) => state.CustomerOf.TryGetValue(visitor, out var c) ? "c:" + c : "v:" + visitor;
            var excluded = new HashSet<string>(state.Excluded.Select(Key), StringComparer.Ordinal);
            var merged = new Dictionary<string, Dictionary<int, (double Amount, int Orders)>>(StringComparer.Ordinal);
            foreach (var (visitor, days) in state.ByVisitor)
            {
                var key = Key(visitor);
                if (excluded.Contains(key))
                {
                    continue;
                }
                if (!merged.TryGetValue(key, out var into))
                {
                    merged[key] = into = [];
                }
                foreach (var (day, (amount, orders)) in days)
                {
                    var (a, o) = into.GetValueOrDefault(day);
                    into[day] = (a + amount, o + orders);
                }
            }
            var customers = merged
                .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new CustomerPurchases(kv.Key[2..], [.. kv.Value.OrderBy(d => d.Key).Select(d => new PurchaseDay(d.Key, Math.Round(d.Value.Amount, 2), d.Value.Orders))]))
                .ToList();
            var visitors = state.Interest.Keys.Where(v => !state.Excluded.Contains(v)).Select(Key).Distinct(StringComparer.Ordinal).Count();
            var engaged = state.Interest.Where(kv => kv.Value >= 3 && !state.Excluded.Contains(kv.Key)).Select(kv => Key(kv.Key))
                .Where(k => !merged.ContainsKey(k)).Distinct(StringComparer.Ordinal).Count(); // prospects: not customers
            // An archived visitor no table names is their own key, neither excluded nor a customer, and none of the keys above.
            result[site] = new SiteHistory(customers, state.LastDay, visitors + alone, engaged + aloneEngaged);
        }
        return result;
    }
}

using System.Buffers;
using MessagePack;
using MessagePack.Formatters;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// The single customer view of one visitor within one site. Stored as MessagePack with integer keys:
/// a new field takes the next free key and old bytes keep reading (missing keys keep their defaults).
/// Never renumber or reuse a key.
/// </summary>
[MessagePackObject]
public sealed class VisitorProfile
{
    [Key(0)] public string VisitorId { get; set; } = "";
    [Key(1)] public string? CustomerId { get; set; }
    /// <summary>Unix milliseconds.</summary>
    [Key(2)] public long FirstSeen { get; set; }
    [Key(3)] public long LastSeen { get; set; }
    [Key(4)] public int Sessions { get; set; }
    [Key(5)] public int PageViews { get; set; }
    /// <summary>Most recent first, bounded.</summary>
    [Key(6)] public List<ViewedItem> RecentlyViewed { get => field ??= []; set; }
    [Key(7)] public List<CartLine> Cart { get => field ??= []; set; }
    [Key(8)] public int Orders { get; set; }
    [Key(9)] public double Revenue { get; set; }
    [Key(10)] public long LastOrderAt { get; set; }
    /// <summary>Per-category affinity; each score is valid at its own <see cref="CategoryAffinity.UpdatedAt"/> and decays from there.</summary>
    [Key(11)] public List<CategoryAffinity> Affinity { get => field ??= []; set; }
    [Key(12)] public VisitorPreferences Preferences { get => field ??= new(); set; }
    [Key(13)] public int ProductViews { get; set; }
    /// <summary>Sequence number of the last log record folded into this profile (exactly-once replay).</summary>
    [Key(14)] public long AppliedSeq { get; set; }
    /// <summary>Most recent first, bounded.</summary>
    [Key(15)] public List<string> PurchasedItems { get => field ??= []; set; }
    /// <summary>Most recent first, bounded.</summary>
    [Key(16)] public List<string> RecentSearches { get => field ??= []; set; }
    [Key(17)] public int SlotClicks { get; set; }
    /// <summary>Other visitor ids merged into this profile by <c>identify</c>.</summary>
    [Key(18)] public List<string> MergedVisitorIds { get => field ??= []; set; }
    /// <summary>Set on the stub left behind when this visitor was merged into another profile.</summary>
    [Key(19)] public string? MergedInto { get; set; }
    [Key(20)] public long LastEventAt { get; set; }
    [Key(21)] public string? LastOrderId { get; set; }
    [Key(22)] public string? Currency { get; set; }
    /// <summary>
    /// Bumped by the store on every write; a write carrying an older revision is refused
    /// (<see cref="Pipeline.WriteConflictException"/>), so two nodes never overwrite each other's update.
    /// </summary>
    [Key(23)] public long Revision { get; set; }
    /// <summary>On a store shared by several nodes: the last log sequence number of each node folded into this profile.</summary>
    [Key(24)] public Dictionary<string, long>? AppliedByNode { get; set; }
    /// <summary>Per-brand affinity, decaying like <see cref="Affinity"/>.</summary>
    [Key(25)] public List<CategoryAffinity> BrandAffinity { get => field ??= []; set; }
    /// <summary>Per-tag affinity (the catalogue's item tags), decaying like <see cref="Affinity"/>.</summary>
    [Key(26)] public List<CategoryAffinity> TagAffinity { get => field ??= []; set; }
    /// <summary>Unix milliseconds of the first order (0 without orders); with <see cref="LastOrderAt"/>, what the lifetime-value model reads.</summary>
    [Key(27)] public long FirstOrderAt { get; set; }
    /// <summary>What the visitor was last shown per slot and which experiments exposed them: what a later click or purchase is attributed to.</summary>
    [Key(28)] public AttributionMemory? Attribution { get; set; }

    /// <summary>
    /// Every item the visitor has touched, with how often (views, clicks, cart additions, purchased
    /// lines): what training counts, so the request-time user vector is the one training would give.
    /// Purchased items are never dropped; beyond <c>ItemHistoryLimit</c> the oldest unpurchased go.
    /// </summary>
    [Key(29)] public List<ItemTouch> Items { get => field ??= []; set; }

    /// <summary>
    /// Each calendar day (UTC, days since 1970) the visitor ordered on, ascending, with that day's revenue:
    /// the transactions of the lifetime-value models, where same-day orders count as one.
    /// </summary>
    [Key(30)] public List<OrderDay> OrderDays { get => field ??= []; set; }

    [IgnoreMember] public bool IsRedirect => MergedInto is not null;

    /// <summary>Whether the visitor ever bought the item, however long ago and however many orders since.</summary>
    public bool HasPurchased(string itemId)
    {
        foreach (var t in Items)
        {
            if (t.Purchases > 0 && string.Equals(t.ItemId, itemId, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return PurchasedItems.Contains(itemId);
    }
}

/// <summary>One item of a visitor's history: counts per kind of interaction, and when it was last touched.</summary>
[MessagePackObject]
public sealed class ItemTouch
{
    [Key(0)] public string ItemId { get; set; } = "";
    [Key(1)] public int Views { get; set; }
    [Key(2)] public int Clicks { get; set; }
    [Key(3)] public int Carts { get; set; }
    [Key(4)] public int Purchases { get; set; }
    [Key(5)] public long At { get; set; }
}

[MessagePackObject]
public sealed class ViewedItem
{
    [Key(0)] public string ItemId { get; set; } = "";
    [Key(1)] public long At { get; set; }
}

[MessagePackObject]
public sealed class CartLine
{
    [Key(0)] public string ItemId { get; set; } = "";
    [Key(1)] public int Quantity { get; set; }
    [Key(2)] public double Price { get; set; }
    [Key(3)] public long AddedAt { get; set; }
}

[MessagePackObject]
public sealed class CategoryAffinity
{
    [Key(0)] public string Category { get; set; } = "";
    [Key(1)] public double Score { get; set; }
    [Key(2)] public long UpdatedAt { get; set; }
}

public enum TrackingConsent : byte
{
    Unknown = 0,
    Granted = 1,
    Denied = 2,
}

[MessagePackObject]
public sealed class VisitorPreferences
{
    [Key(0)] public bool PersonalizationEnabled { get; set; } = true;
    [Key(1)] public List<string> Interests { get => field ??= []; set; }
    [Key(2)] public List<string> ExcludedCategories { get => field ??= []; set; }
    [Key(3)] public TrackingConsent Tracking { get; set; }
    [Key(4)] public long UpdatedAt { get; set; }
}

/// <summary>
/// Bounded: the latest impression of each of the last <see cref="MaxSlots"/> slots shown, and the first
/// exposure to each of the last <see cref="MaxExposures"/> experiments. Kept by the counters' attribution,
/// stored with the profile so that it is covered by the same checkpoints and exactly-once replay.
/// Read from stored bytes lazily (<see cref="AttributionMemoryFormatter"/>): a decide reads the profile
/// but never this, so its slots and exposures are decoded only when something asks for them, and bytes
/// nobody touched are written back as they were read.
/// </summary>
[MessagePackFormatter(typeof(AttributionMemoryFormatter))]
public sealed class AttributionMemory
{
    public const int MaxSlots = 32;
    public const int MaxExposures = 32;

    private byte[]? _stored;
    private List<ShownSlot> _shown;
    private List<Exposure> _exposures;

    public AttributionMemory()
    {
        _shown = [];
        _exposures = [];
    }

    /// <summary>The memory as stored (a MessagePack array of the two lists), decoded on first use (the lists are set then).</summary>
    internal AttributionMemory(byte[] stored)
    {
        _stored = stored;
        _shown = null!;
        _exposures = null!;
    }

    public List<ShownSlot> Shown
    {
        get
        {
            Decode();
            return _shown;
        }
        set
        {
            Decode();
            _shown = value;
        }
    }

    public List<Exposure> Exposures
    {
        get
        {
            Decode();
            return _exposures;
        }
        set
        {
            Decode();
            _exposures = value;
        }
    }

    /// <summary>The stored bytes while nothing has asked for the lists (they may then have changed).</summary>
    internal byte[]? Untouched => _stored;

    private void Decode()
    {
        if (Volatile.Read(ref _stored) is not { } stored)
        {
            return;
        }
        // The lists before the bytes are dropped: whoever sees no bytes sees the decoded lists.
        var contents = MessagePackSerializer.Deserialize<AttributionContents>(stored);
        _shown = contents.Shown ?? [];
        _exposures = contents.Exposures ?? [];
        Volatile.Write(ref _stored, null);
    }
}

/// <summary>The stored layout of <see cref="AttributionMemory"/>: keys 0 and 1, as it always was.</summary>
[MessagePackObject]
public sealed class AttributionContents
{
    [Key(0)] public List<ShownSlot>? Shown { get; set; }
    [Key(1)] public List<Exposure>? Exposures { get; set; }
}

/// <summary>
/// Reads an <see cref="AttributionMemory"/> as a copy of its bytes (one allocation instead of an object and
/// six strings per slot shown), decoded when first used; writes untouched bytes back as they are.
/// </summary>
public sealed class AttributionMemoryFormatter : IMessagePackFormatter<AttributionMemory?>
{
    public void Serialize(ref MessagePackWriter writer, AttributionMemory? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        if (value.Untouched is { } stored)
        {
            writer.WriteRaw(stored);
            return;
        }
        options.Resolver.GetFormatterWithVerify<AttributionContents>()
            .Serialize(ref writer, new AttributionContents { Shown = value.Shown, Exposures = value.Exposures }, options);
    }

    public AttributionMemory? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }
        options.Security.DepthStep(ref reader);
        var raw = reader.ReadRaw();
        reader.Depth--;
        return new AttributionMemory(raw.ToArray());
    }
}

[MessagePackObject]
public sealed class ShownSlot
{
    [Key(0)] public string SlotId { get; set; } = "";
    /// <summary>The variant, or <c>(items)</c> for a recommendations slot.</summary>
    [Key(1)] public string Variant { get; set; } = "";
    /// <summary>The source as reported (<c>rule:ID</c>, <c>experiment:ID/ARM</c>, <c>recommendations</c> …).</summary>
    [Key(2)] public string Source { get; set; } = "";
    [Key(3)] public long At { get; set; }
    /// <summary>The visitor's lifecycle stage and RFM segment when shown (what clicks and conversions are broken down by).</summary>
    [Key(4)] public string? Stage { get; set; }
    [Key(5)] public string? Segment { get; set; }
}

[MessagePackObject]
public sealed class Exposure
{
    [Key(0)] public string Experiment { get; set; } = "";
    /// <summary>When the experiment (this run of it) started: a restarted experiment counts afresh.</summary>
    [Key(1)] public long StartedAt { get; set; }
    [Key(2)] public string Arm { get; set; } = "";
    [Key(3)] public long At { get; set; }
    [Key(4)] public bool Converted { get; set; }
    /// <summary>Revenue attributed to this exposure so far (what the sum of squares of revenue per visitor needs).</summary>
    [Key(5)] public double Revenue { get; set; }
    /// <summary>The visitor's lifecycle stage and RFM segment at exposure: the results' breakdown.</summary>
    [Key(6)] public string? Stage { get; set; }
    [Key(7)] public string? Segment { get; set; }
}

/// <summary>A day with orders: the day number (UTC, since 1970-01-01) and that day's revenue.</summary>
[MessagePackObject]
public sealed class OrderDay
{
    [Key(0)] public int Day { get; set; }
    [Key(1)] public double Amount { get; set; }

    /// <summary>Adds one order to the ascending list of days.</summary>
    public static void Add(List<OrderDay> days, int day, double amount)
    {
        var i = days.Count;
        while (i > 0 && days[i - 1].Day > day)
        {
            i--;
        }
        if (i > 0 && days[i - 1].Day == day)
        {
            days[i - 1].Amount = Math.Round(days[i - 1].Amount + amount, 2);
            return;
        }
        days.Insert(i, new OrderDay { Day = day, Amount = Math.Round(amount, 2) });
    }
}

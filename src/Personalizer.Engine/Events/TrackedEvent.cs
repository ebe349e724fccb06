using MessagePack;

namespace Personalizer.Engine.Events;

/// <summary>The event types a storefront reports. Values are stored: never renumber.</summary>
public enum EventType : byte
{
    PageView = 1,
    ProductView = 2,
    AddToCart = 3,
    RemoveFromCart = 4,
    Purchase = 5,
    Search = 6,
    SlotClick = 7,
    Identify = 8,
}

public static class EventTypes
{
    public const string PageView = "page_view";
    public const string ProductView = "product_view";
    public const string AddToCart = "add_to_cart";
    public const string RemoveFromCart = "remove_from_cart";
    public const string Purchase = "purchase";
    public const string Search = "search";
    public const string SlotClick = "slot_click";
    public const string Identify = "identify";

    public static readonly string[] All = [PageView, ProductView, AddToCart, RemoveFromCart, Purchase, Search, SlotClick, Identify];

    public static bool TryParse(string? name, out EventType type)
    {
        type = name switch
        {
            PageView => EventType.PageView,
            ProductView => EventType.ProductView,
            AddToCart => EventType.AddToCart,
            RemoveFromCart => EventType.RemoveFromCart,
            Purchase => EventType.Purchase,
            Search => EventType.Search,
            SlotClick => EventType.SlotClick,
            Identify => EventType.Identify,
            _ => 0,
        };
        return type != 0;
    }

    public static string Name(EventType type) => type switch
    {
        EventType.PageView => PageView,
        EventType.ProductView => ProductView,
        EventType.AddToCart => AddToCart,
        EventType.RemoveFromCart => RemoveFromCart,
        EventType.Purchase => Purchase,
        EventType.Search => Search,
        EventType.SlotClick => SlotClick,
        EventType.Identify => Identify,
        _ => "unknown",
    };
}

/// <summary>A validated event, as it is written to the durable log and folded into a profile.</summary>
[MessagePackObject]
public sealed class TrackedEvent
{
    [Key(0)] public string EventId { get; set; } = "";
    [Key(1)] public EventType Type { get; set; }
    [Key(2)] public string VisitorId { get; set; } = "";
    /// <summary>Unix milliseconds.</summary>
    [Key(3)] public long Timestamp { get; set; }
    [Key(4)] public string? ItemId { get; set; }
    [Key(5)] public int Quantity { get; set; }
    [Key(6)] public double Price { get; set; }
    [Key(7)] public string? OrderId { get; set; }
    [Key(8)] public OrderLine[]? Lines { get; set; }
    [Key(9)] public double Revenue { get; set; }
    [Key(10)] public string? Currency { get; set; }
    [Key(11)] public string? CustomerId { get; set; }
    [Key(12)] public string? Query { get; set; }
    [Key(13)] public string? SlotId { get; set; }
    [Key(14)] public string? DecisionId { get; set; }
    [Key(15)] public string? Variant { get; set; }
    [Key(16)] public string? Url { get; set; }
    [Key(17)] public string? Device { get; set; }
    [Key(18)] public string? Referrer { get; set; }
    [Key(19)] public string? Country { get; set; }
}

[MessagePackObject]
public sealed class OrderLine
{
    [Key(0)] public string ItemId { get; set; } = "";
    [Key(1)] public int Quantity { get; set; }
    [Key(2)] public double Price { get; set; }
}

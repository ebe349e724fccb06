using Personalizer.Engine;
using Personalizer.Engine.Events;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Events;

public sealed record EventBatchRequest(List<EventRequest?>? Events);

public sealed record EventRequest
{
    public string? EventId { get; init; }
    public string? Type { get; init; }
    public string? VisitorId { get; init; }
    /// <summary>When it happened (ISO 8601); the server's time when missing.</summary>
    public DateTimeOffset? Timestamp { get; init; }
    public string? ItemId { get; init; }
    public int? Quantity { get; init; }
    public double? Price { get; init; }
    public string? OrderId { get; init; }
    public List<OrderLineRequest?>? Lines { get; init; }
    public double? Revenue { get; init; }
    public string? Currency { get; init; }
    public string? CustomerId { get; init; }
    public string? Query { get; init; }
    public string? SlotId { get; init; }
    public string? DecisionId { get; init; }
    public string? Variant { get; init; }
    public EventContextRequest? Context { get; init; }
}

public sealed record OrderLineRequest(string? ItemId, int? Quantity, double? Price);

public sealed record EventContextRequest(string? Url, string? Referrer, string? Device, string? Country);

/// <param name="Queued">Events kept in the node's durable log while the profile store is unreachable; applied, in order, when it returns.</param>
/// <param name="Dropped">Events of visitors who refused tracking (preferences): counted, never stored.</param>
public sealed record EventBatchResponse(int Accepted, int Duplicates, int Queued, int Dropped);

internal static class EventsMapping
{
    /// <summary>Maps and validates a batch; errors name <c>events[i].field</c>.</summary>
    public static TrackedEvent[]? ToEvents(this EventBatchRequest request, long nowMs, LimitOptions limits, ValidationErrors errors)
    {
        if (request.Events is null || request.Events.Count == 0)
        {
            errors.Add("events", "must hold at least one event");
            return null;
        }
        if (request.Events.Count > limits.MaxEventsPerBatch)
        {
            errors.Add("events", $"must hold at most {limits.MaxEventsPerBatch} events; send larger volumes in several batches");
            return null;
        }
        var events = new TrackedEvent[request.Events.Count];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = ToEvent(request.Events[i], $"events[{i}]", nowMs, limits, errors)!;
        }
        return errors.IsEmpty ? events : null;
    }

    /// <summary>Maps and validates one event; errors name <c>PATH.field</c>. Null when it cannot be mapped at all.</summary>
    public static TrackedEvent? ToEvent(EventRequest? e, string path, long nowMs, LimitOptions limits, ValidationErrors errors)
    {
        if (e is null)
        {
            errors.Add(path, "must be an object");
            return null;
        }
        if (e.Type is null)
        {
            errors.Add($"{path}.type", "is required");
            return null;
        }
        if (!EventTypes.TryParse(e.Type, out var type))
        {
            errors.Add($"{path}.type", $"'{Truncate(e.Type)}' is not a known event type; expected one of: {string.Join(", ", EventTypes.All)}");
            return null;
        }
        var lines = e.Lines?.Select(l => l is null ? new OrderLine() : new OrderLine { ItemId = l.ItemId!, Quantity = l.Quantity ?? 1, Price = l.Price ?? 0 }).ToArray();
        var mapped = new TrackedEvent
        {
            EventId = e.EventId!,
            Type = type,
            VisitorId = e.VisitorId!,
            Timestamp = e.Timestamp?.ToUnixTimeMilliseconds() ?? nowMs,
            ItemId = e.ItemId,
            Quantity = e.Quantity ?? (type == EventType.AddToCart ? 1 : 0),
            Price = e.Price ?? 0,
            OrderId = e.OrderId,
            Lines = lines,
            Revenue = e.Revenue ?? lines?.Sum(l => l.Price * l.Quantity) ?? 0,
            Currency = e.Currency,
            CustomerId = e.CustomerId,
            Query = e.Query,
            SlotId = e.SlotId,
            DecisionId = e.DecisionId,
            Variant = e.Variant,
            Url = e.Context?.Url,
            Referrer = e.Context?.Referrer,
            Device = e.Context?.Device,
            Country = e.Context?.Country,
        };
        if (type == EventType.AddToCart && e.Quantity is < 1)
        {
            errors.Add($"{path}.quantity", $"must be from 1 to {EventValidator.MaxQuantity}");
        }
        EventValidator.Validate(mapped, path, nowMs, limits, errors);
        return mapped;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

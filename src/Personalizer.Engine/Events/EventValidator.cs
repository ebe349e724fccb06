using Personalizer.Engine.Validation;
namespace Personalizer.Engine.Events;

/// <summary>The rules an event must meet before it is written to the log.</summary>
public static class EventValidator
{
    public const int MaxLines = 200;
    public const int MaxUrlLength = 2048;
    public const int MaxQueryLength = 256;
    public const double MaxAmount = 1e9;
    public const int MaxQuantity = 100_000;

    public static void Validate(TrackedEvent e, string path, long nowMs, LimitOptions limits, ValidationErrors errors)
    {
        errors.Id($"{path}.eventId", e.EventId);
        errors.Id($"{path}.visitorId", e.VisitorId);
        if (e.Timestamp > nowMs + limits.MaxClockSkewSeconds * 1000L)
        {
            errors.Add($"{path}.timestamp", $"lies more than {limits.MaxClockSkewSeconds} s in the future");
        }
        else if (e.Timestamp < nowMs - limits.MaxEventAgeDays * 86_400_000L)
        {
            errors.Add($"{path}.timestamp", $"is older than {limits.MaxEventAgeDays} days");
        }
        errors.Text($"{path}.url", e.Url, MaxUrlLength);
        errors.Text($"{path}.referrer", e.Referrer, MaxUrlLength);
        errors.Text($"{path}.device", e.Device, 32);
        errors.Text($"{path}.country", e.Country, 8);
        errors.Number($"{path}.price", e.Price, 0, MaxAmount);
        if (e.Quantity < 0 || e.Quantity > MaxQuantity)
        {
            errors.Add($"{path}.quantity", $"must be from 1 to {MaxQuantity}");
        }

        switch (e.Type)
        {
            case EventType.ProductView:
            case EventType.AddToCart:
            case EventType.RemoveFromCart:
                errors.Id($"{path}.itemId", e.ItemId);
                break;
            case EventType.Purchase:
                errors.Id($"{path}.orderId", e.OrderId);
                errors.Number($"{path}.revenue", e.Revenue, 0, MaxAmount);
                if (e.Currency is not null && (e.Currency.Length != 3 || !e.Currency.All(char.IsAsciiLetterUpper)))
                {
                    errors.Add($"{path}.currency", "must be a three-letter ISO 4217 code such as EUR");
                }
                if (e.Lines is null || e.Lines.Length == 0)
                {
                    errors.Add($"{path}.lines", "a purchase needs at least one line");
                }
                else if (e.Lines.Length > MaxLines)
                {
                    errors.Add($"{path}.lines", $"must have at most {MaxLines} lines");
                }
                else
                {
                    for (var i = 0; i < e.Lines.Length; i++)
                    {
                        var line = e.Lines[i];
                        errors.Id($"{path}.lines[{i}].itemId", line.ItemId);
                        if (line.Quantity < 1 || line.Quantity > MaxQuantity)
                        {
                            errors.Add($"{path}.lines[{i}].quantity", $"must be from 1 to {MaxQuantity}");
                        }
                        errors.Number($"{path}.lines[{i}].price", line.Price, 0, MaxAmount);
                    }
                }
                break;
            case EventType.Search:
                errors.Text($"{path}.query", e.Query, MaxQueryLength, required: true);
                break;
            case EventType.SlotClick:
                errors.Id($"{path}.slotId", e.SlotId);
                errors.Id($"{path}.decisionId", e.DecisionId, required: false);
                errors.Id($"{path}.variant", e.Variant, required: false);
                errors.Id($"{path}.itemId", e.ItemId, required: false);
                break;
            case EventType.Identify:
                errors.Id($"{path}.customerId", e.CustomerId);
                break;
            case EventType.PageView:
                break;
            default:
                errors.Add($"{path}.type", "is not a known event type");
                break;
        }
    }
}

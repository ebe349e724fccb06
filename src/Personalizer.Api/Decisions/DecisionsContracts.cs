using System.Text.Json;
using Personalizer.Engine;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Validation;
using Personalizer.Engine.Strategies;
using Personalizer.Engine.Rules;

namespace Personalizer.Api.Decisions;

public sealed record DecideRequest(string? VisitorId, DecideContextRequest? Context, List<string?>? Slots);

public sealed record DecideContextRequest
{
    public string? Url { get; init; }
    public string? Referrer { get; init; }
    public string? Device { get; init; }
    public string? Country { get; init; }
    public string? Language { get; init; }
    public Dictionary<string, string>? Utm { get; init; }
    /// <summary>Any custom string attributes of the page, usable in conditions as <c>context.NAME</c>.</summary>
    public Dictionary<string, string>? Attributes { get; init; }
}

public sealed record DecideResponse(string DecisionId, Dictionary<string, SlotAnswer> Slots, int ConfigVersion, List<string>? UnknownSlots);

public sealed record SlotAnswer
{
    public string? Variant { get; init; }
    public JsonElement? Content { get; init; }
    public List<ItemAnswer>? Items { get; init; }
    public required string Source { get; init; }
    public string? Reason { get; init; }
    /// <summary>For a fallback: the step of the slot's fallback chain that answered.</summary>
    public string? FallbackStep { get; init; }
    public List<TraceStepAnswer>? Trace { get; init; }
}

public sealed record ItemAnswer(string ItemId, double Score, string Title, double Price, string? Currency, string? Url, string? ImageUrl, string[] Categories);

public sealed record TraceStepAnswer(string Strategy, string Outcome, string? Detail);

internal static class DecisionsMapping
{
    private const int MaxAttributes = 32;
    private const int MaxValueLength = 512;

    public static DecisionRequest? ToRequest(this DecideRequest request, bool explain, LimitOptions limits, ValidationErrors errors)
    {
        errors.Id("visitorId", request.VisitorId);
        if (request.Slots is null || request.Slots.Count == 0)
        {
            errors.Add("slots", "must name at least one slot");
        }
        else if (request.Slots.Count > limits.MaxSlotsPerDecide)
        {
            errors.Add("slots", $"must name at most {limits.MaxSlotsPerDecide} slots");
        }
        else
        {
            for (var i = 0; i < request.Slots.Count; i++)
            {
                errors.Id($"slots[{i}]", request.Slots[i]);
            }
        }
        var c = request.Context ?? new DecideContextRequest();
        errors.Text("context.url", c.Url, 2048);
        errors.Text("context.referrer", c.Referrer, 2048);
        errors.Text("context.device", c.Device, 32);
        errors.Text("context.country", c.Country, 8);
        errors.Text("context.language", c.Language, 35);
        Attributes("context.utm", c.Utm, errors);
        Attributes("context.attributes", c.Attributes, errors);
        if (!errors.IsEmpty)
        {
            return null;
        }
        return new DecisionRequest
        {
            VisitorId = request.VisitorId!,
            Slots = request.Slots!.Distinct(StringComparer.Ordinal).ToArray()!,
            Explain = explain,
            Context = new RequestContext
            {
                Url = c.Url,
                Referrer = c.Referrer,
                Device = c.Device,
                Country = c.Country,
                Language = c.Language,
                Utm = c.Utm,
                Attributes = c.Attributes,
            },
        };
    }

    private static void Attributes(string path, Dictionary<string, string>? values, ValidationErrors errors)
    {
        if (values is null)
        {
            return;
        }
        if (values.Count > MaxAttributes)
        {
            errors.Add(path, $"must have at most {MaxAttributes} entries");
            return;
        }
        foreach (var (key, value) in values)
        {
            if (!Ids.IsValid(key))
            {
                errors.Add($"{path}.{key}", $"the name must be {Ids.Rule}");
            }
            errors.Text($"{path}.{key}", value, MaxValueLength, required: true);
        }
    }

    public static DecideResponse ToResponse(this Decision decision)
    {
        var slots = new Dictionary<string, SlotAnswer>(decision.Slots.Count, StringComparer.Ordinal);
        foreach (var s in decision.Slots)
        {
            slots[s.SlotId] = new SlotAnswer
            {
                Variant = s.Variant?.Id,
                Content = s.Variant?.Content,
                Items = s.Items?.Select(i => new ItemAnswer(i.Item.Id, i.Score, i.Item.Title, i.Item.Price, i.Item.Currency, i.Item.Url, i.Item.ImageUrl, i.Item.Categories)).ToList(),
                Source = s.Source,
                Reason = s.Reason,
                FallbackStep = s.FallbackStep,
                Trace = s.Trace?.Select(t => new TraceStepAnswer(t.Strategy, t.Outcome, t.Detail)).ToList(),
            };
        }
        return new DecideResponse(decision.DecisionId, slots, decision.ConfigurationVersion, decision.UnknownSlots.Count > 0 ? [.. decision.UnknownSlots] : null);
    }
}

using System.Text.Json;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Validation;
using Personalizer.Engine.Strategies;
using Personalizer.Engine.Rules;

namespace Personalizer.Api.Decisions;

public sealed record DecideRequest(string? VisitorId, DecideContextRequest? Context, List<string?>? Slots)
{
    /// <summary>The page's own filters and boosts per recommendations slot (by slot id), on top of the slot's.</summary>
    public Dictionary<string, PageFiltersRequest?>? Filters { get; init; }
}

/// <summary>
/// A page's filters for one recommendations slot of a decide. Each narrows the slot: an item must pass these
/// and the slot's own, so a page cannot bring back what the merchandiser's filters leave out.
/// </summary>
public sealed record PageFiltersRequest
{
    public bool? ExcludePurchased { get; init; }
    public bool? ExcludeInCart { get; init; }
    public bool? ExcludeRecentlyViewed { get; init; }
    public bool? InStockOnly { get; init; }
    public List<string>? IncludeCategories { get; init; }
    public List<string>? ExcludeCategories { get; init; }
    public List<string>? IncludeBrands { get; init; }
    public List<string>? ExcludeBrands { get; init; }
    public List<string>? IncludeTags { get; init; }
    public List<string>? ExcludeTags { get; init; }
    public double? MinPrice { get; init; }
    public double? MaxPrice { get; init; }
    public int? MaxPerCategory { get; init; }
    /// <summary>Item attribute conditions, each <c>name:value</c>; every one must hold.</summary>
    public List<string>? Attributes { get; init; }
    /// <summary>Categories listed first, drawn from the whole catalogue.</summary>
    public List<string>? BoostCategories { get; init; }
}

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
        var slotOptions = errors.IsEmpty ? PageFilters(request, limits, errors) : null;
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
            SlotOptions = slotOptions,
        };
    }

    private const int MaxBoosts = 20;

    /// <summary>The <c>filters</c> of a decide: each names a slot of the request; errors at <c>filters.SLOT.FIELD</c>.</summary>
    private static Dictionary<string, PageSlotOptions>? PageFilters(DecideRequest request, LimitOptions limits, ValidationErrors errors)
    {
        if (request.Filters is not { Count: > 0 } asked)
        {
            return null;
        }
        var options = new Dictionary<string, PageSlotOptions>(asked.Count, StringComparer.Ordinal);
        foreach (var (slotId, f) in asked)
        {
            var path = $"filters.{slotId}";
            if (!request.Slots!.Contains(slotId))
            {
                errors.Add(path, "names a slot the request does not ask for (filters are per slot of this decide)");
                continue;
            }
            if (f is null)
            {
                errors.Add(path, "must be an object of filters");
                continue;
            }
            var filters = RecommendationFilters.ForPage() with
            {
                ExcludePurchased = f.ExcludePurchased ?? false,
                ExcludeInCart = f.ExcludeInCart ?? false,
                ExcludeRecentlyViewed = f.ExcludeRecentlyViewed ?? false,
                InStockOnly = f.InStockOnly ?? false,
                IncludeCategories = f.IncludeCategories?.ToArray() ?? [],
                ExcludeCategories = f.ExcludeCategories?.ToArray() ?? [],
                IncludeBrands = f.IncludeBrands?.ToArray() ?? [],
                ExcludeBrands = f.ExcludeBrands?.ToArray() ?? [],
                IncludeTags = f.IncludeTags?.ToArray() ?? [],
                ExcludeTags = f.ExcludeTags?.ToArray() ?? [],
                MinPrice = f.MinPrice,
                MaxPrice = f.MaxPrice,
                MaxPerCategory = f.MaxPerCategory ?? 0,
                Attributes = f.Attributes?.ToArray() ?? [],
            };
            ConfigurationService.ValidateFilters(filters, path, errors);
            var boost = f.BoostCategories?.ToArray() ?? [];
            if (boost.Length > MaxBoosts)
            {
                errors.Add($"{path}.boostCategories", $"must have at most {MaxBoosts} entries");
            }
            for (var i = 0; i < boost.Length; i++)
            {
                boost[i] = ValidationErrors.TrimName(boost[i])!;
                errors.Name($"{path}.boostCategories[{i}]", boost[i]);
            }
            options[slotId] = new PageSlotOptions(filters, boost);
        }
        return options;
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

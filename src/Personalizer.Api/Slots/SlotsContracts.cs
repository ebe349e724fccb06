using System.Text.Json;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Slots;

public sealed record SlotRequest
{
    public string? Kind { get; init; }
    public string? Description { get; init; }
    public string? DefaultVariant { get; init; }
    public List<VariantRequest?>? Variants { get; init; }
    public string? Strategy { get; init; }
    public int? Count { get; init; }
    public FiltersRequest? Filters { get; init; }
    /// <summary>The slot's own time budget in ms within the decide's.</summary>
    public int? BudgetMs { get; init; }
    /// <summary>Recommendation slots: the fallback chain (category_trending, trending).</summary>
    public List<string>? Fallbacks { get; init; }
}

public sealed record VariantRequest(string? Id, JsonElement? Content, List<string>? Tags);

public sealed record FiltersRequest(bool? ExcludePurchased, bool? ExcludeInCart, bool? InStockOnly, List<string>? IncludeCategories, List<string>? ExcludeCategories, int? MaxPerCategory,
    List<string>? IncludeBrands = null, List<string>? ExcludeBrands = null, List<string>? IncludeTags = null, List<string>? ExcludeTags = null,
    double? MinPrice = null, double? MaxPrice = null, bool? ExcludeRecentlyViewed = null, List<string>? Attributes = null);

public sealed record SlotResponse(
    string Id, string Kind, string? Description, string? DefaultVariant, List<VariantResponse>? Variants,
    string? Strategy, int? Count, FiltersResponse? Filters, int? BudgetMs = null, string[]? Fallbacks = null);

public sealed record VariantResponse(string Id, JsonElement Content, string[] Tags);

public sealed record FiltersResponse(bool ExcludePurchased, bool ExcludeInCart, bool InStockOnly, string[] IncludeCategories, string[] ExcludeCategories, int MaxPerCategory,
    string[] IncludeBrands, string[] ExcludeBrands, string[] IncludeTags, string[] ExcludeTags, double? MinPrice, double? MaxPrice, bool ExcludeRecentlyViewed, string[] Attributes);

public sealed record SlotChangeResponse(int Version, SlotResponse Slot);

public sealed record ConfigVersionResponse(int Version, DateTimeOffset CreatedAt, string Author, string Summary, List<string> Slots);

/// <summary>One version's whole content, each list ordered by id.</summary>
public sealed record ConfigVersionContent(
    int Version, DateTimeOffset CreatedAt, string Author, string Summary,
    List<SlotResponse> Slots, List<Rules.RuleResponse> Rules, List<Rules.SegmentResponse> Segments,
    List<Experiments.ExperimentResponse> Experiments, List<Triggers.TriggerResponse> Triggers);

internal static class SlotsMapping
{
    public static SlotDefinition? ToSlot(this SlotRequest r, string id, ValidationErrors errors)
    {
        SlotKind kind = 0;
        if (r.Kind is null)
        {
            errors.Add("kind", $"is required: '{SlotKinds.Content}' or '{SlotKinds.Recommendations}'");
            return null;
        }
        kind = r.Kind switch
        {
            SlotKinds.Content => SlotKind.Content,
            SlotKinds.Recommendations => SlotKind.Recommendations,
            _ => 0,
        };
        var variants = new List<SlotVariant>();
        for (var i = 0; i < (r.Variants?.Count ?? 0); i++)
        {
            var v = r.Variants![i];
            if (v is null)
            {
                errors.Add($"variants[{i}]", "must be an object");
                continue;
            }
            if (v.Content is not { ValueKind: JsonValueKind.Object } content)
            {
                errors.Add($"variants[{i}].content", "is required and must be a JSON object");
                continue;
            }
            if (InvalidText(content, $"variants[{i}].content") is { } bad)
            {
                errors.Add(bad, "holds a \\u escape that is not a character (a lone UTF-16 surrogate)");
                continue;
            }
            variants.Add(new SlotVariant { Id = v.Id!, ContentJson = content.GetRawText(), Tags = v.Tags?.ToArray() ?? [] });
        }
        var f = r.Filters;
        var slot = new SlotDefinition
        {
            Id = id,
            Kind = kind,
            Description = r.Description,
            DefaultVariant = r.DefaultVariant,
            Variants = [.. variants],
            Strategy = r.Strategy ?? RecommendationStrategies.Personalized,
            Count = r.Count ?? 10,
            BudgetMs = r.BudgetMs,
            Fallbacks = r.Fallbacks?.ToArray() ?? [],
            Filters = new RecommendationFilters
            {
                ExcludePurchased = f?.ExcludePurchased ?? true,
                ExcludeInCart = f?.ExcludeInCart ?? true,
                InStockOnly = f?.InStockOnly ?? true,
                IncludeCategories = f?.IncludeCategories?.ToArray() ?? [],
                ExcludeCategories = f?.ExcludeCategories?.ToArray() ?? [],
                MaxPerCategory = f?.MaxPerCategory ?? 0,
                IncludeBrands = f?.IncludeBrands?.ToArray() ?? [],
                ExcludeBrands = f?.ExcludeBrands?.ToArray() ?? [],
                IncludeTags = f?.IncludeTags?.ToArray() ?? [],
                ExcludeTags = f?.ExcludeTags?.ToArray() ?? [],
                MinPrice = f?.MinPrice,
                MaxPrice = f?.MaxPrice,
                ExcludeRecentlyViewed = f?.ExcludeRecentlyViewed ?? false,
                Attributes = f?.Attributes?.ToArray() ?? [],
            },
        };
        ConfigurationService.Validate(slot, errors);
        return errors.IsEmpty ? slot : null;
    }

    /// <summary>
    /// The path of the first name or string in <paramref name="element"/> that does not unescape to text
    /// (<c>\ud800</c> alone is valid JSON syntax but no character): stored as it is, it could never be
    /// written back out.
    /// </summary>
    private static string? InvalidText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path;
                    }
                    if (InvalidText(property.Value, $"{path}.{name}") is { } bad)
                    {
                        return bad;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (InvalidText(item, $"{path}[{i++}]") is { } bad)
                    {
                        return bad;
                    }
                }
                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }
            default:
                return null;
        }
    }

    public static SlotResponse ToResponse(this SlotDefinition s) => s.Kind == SlotKind.Content
        ? new(s.Id, SlotKinds.Content, s.Description, s.DefaultVariant, [.. s.Variants.Select(v => new VariantResponse(v.Id, v.Content, v.Tags))], null, null, null, s.BudgetMs)
        : new(s.Id, SlotKinds.Recommendations, s.Description, null, null, s.Strategy, s.Count,
            new FiltersResponse(s.Filters.ExcludePurchased, s.Filters.ExcludeInCart, s.Filters.InStockOnly, s.Filters.IncludeCategories, s.Filters.ExcludeCategories, s.Filters.MaxPerCategory,
                s.Filters.IncludeBrands, s.Filters.ExcludeBrands, s.Filters.IncludeTags, s.Filters.ExcludeTags, s.Filters.MinPrice, s.Filters.MaxPrice, s.Filters.ExcludeRecentlyViewed, s.Filters.Attributes),
            s.BudgetMs, s.Fallbacks.Length > 0 ? s.Fallbacks : null);

    public static ConfigVersionContent ToContent(this SiteConfiguration c) => new(
        c.Version, DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedAt), c.Author, c.Summary,
        [.. c.Slots.Values.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => s.ToResponse())],
        [.. c.Rules.Values.OrderBy(r => r.Id, StringComparer.Ordinal).Select(Rules.RulesMapping.ToResponse)],
        [.. c.Segments.Values.OrderBy(s => s.Id, StringComparer.Ordinal).Select(Rules.RulesMapping.ToResponse)],
        [.. c.Experiments.Values.OrderBy(e => e.Id, StringComparer.Ordinal).Select(Experiments.ExperimentsMapping.ToResponse)],
        [.. c.Triggers.Values.OrderBy(t => t.Id, StringComparer.Ordinal).Select(t => Triggers.TriggersApi.ToResponse(t, waiting: 0))]);

    public static ConfigVersionResponse ToResponse(this SiteConfiguration c) => new(
        c.Version, DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedAt), c.Author, c.Summary, [.. c.Slots.Keys.Order(StringComparer.Ordinal)]);
}

using Personalizer.Engine;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Catalog;

public sealed record CatalogUpsertRequest(List<CatalogItemRequest?>? Items);

public sealed record CatalogItemRequest
{
    public string? Id { get; init; }
    public string? Title { get; init; }
    public List<string>? Categories { get; init; }
    public double? Price { get; init; }
    public string? Currency { get; init; }
    public bool? InStock { get; init; }
    public List<string>? Tags { get; init; }
    public string? Url { get; init; }
    public string? ImageUrl { get; init; }
    public string? Brand { get; init; }
    /// <summary>The shop's own attributes: name → string, number, bool, or a list of strings and numbers.</summary>
    public System.Text.Json.JsonElement? Attributes { get; init; }
}

public sealed record CatalogItemResponse(
    string Id, string Title, string[] Categories, double Price, string? Currency, bool InStock, string[] Tags,
    string? Url, string? ImageUrl, string? Brand, DateTimeOffset UpdatedAt, System.Text.Json.JsonElement? Attributes = null);

public sealed record CatalogUpsertResponse(int Upserted);

public sealed record CatalogFeedResponse(int Lines, int Upserted, long Milliseconds);

/// <summary>The fields to change; those left out stay as they are.</summary>
public sealed record CatalogPatchRequest(string? Title, double? Price, bool? InStock, string? Currency, List<string>? Categories, List<string>? Tags, string? Brand, string? Url, string? ImageUrl,
    System.Text.Json.JsonElement? Attributes = null);

/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last one.</param>
public sealed record CatalogListResponse(List<CatalogItemResponse> Items, string? NextCursor, int Total);

internal static class CatalogMapping
{
    public static CatalogItem[]? ToItems(this CatalogUpsertRequest request, int maxItems, ValidationErrors errors)
    {
        if (request.Items is null || request.Items.Count == 0)
        {
            errors.Add("items", "must hold at least one item");
            return null;
        }
        if (request.Items.Count > maxItems)
        {
            errors.Add("items", $"must hold at most {maxItems} items per request");
            return null;
        }
        var items = new CatalogItem[request.Items.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Length; i++)
        {
            var r = request.Items[i];
            if (r is null)
            {
                errors.Add($"items[{i}]", "must be an object");
                continue;
            }
            items[i] = r.ToItem($"items[{i}]", errors);
            if (r.Id is not null && !seen.Add(r.Id))
            {
                errors.Add($"items[{i}].id", $"'{r.Id}' appears more than once in this request");
            }
        }
        return errors.IsEmpty ? items : null;
    }

    /// <summary>The item a request describes, validated with paths under <paramref name="path"/>.</summary>
    public static CatalogItem ToItem(this CatalogItemRequest r, string path, ValidationErrors errors)
    {
        var item = new CatalogItem
        {
            Id = r.Id!,
            Title = r.Title!,
            Categories = r.Categories?.ToArray() ?? [],
            Price = r.Price ?? 0,
            Currency = r.Currency,
            InStock = r.InStock ?? true,
            Tags = r.Tags?.ToArray() ?? [],
            Url = r.Url,
            ImageUrl = r.ImageUrl,
            Brand = r.Brand,
            AttributesJson = Attributes(r.Attributes, path.Length == 0 ? "attributes" : $"{path}.attributes", errors),
        };
        CatalogService.Validate(item, path, errors);
        return item;
    }

    public const int MaxAttributes = 50;
    public const int MaxAttributeText = 256;

    private static string? Attributes(System.Text.Json.JsonElement? attributes, string path, ValidationErrors errors)
    {
        if (attributes is not { } a || a.ValueKind == System.Text.Json.JsonValueKind.Null)
        {
            return null;
        }
        if (a.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            errors.Add(path, "must be an object of name → string, number, bool or list");
            return null;
        }
        var count = 0;
        var before = errors.Count;
        foreach (var p in a.EnumerateObject())
        {
            if (++count > MaxAttributes)
            {
                errors.Add(path, $"must have at most {MaxAttributes} attributes");
                break;
            }
            string name;
            try
            {
                name = p.Name;
            }
            catch (InvalidOperationException)
            {
                errors.Add(path, "holds a name that is not text");
                continue;
            }
            if (!errors.Id($"{path}.{name}", name))
            {
                continue;
            }
            var value = p.Value;
            if (value.ValueKind == System.Text.Json.JsonValueKind.Array)
            {
                var n = 0;
                foreach (var v in value.EnumerateArray())
                {
                    Scalar(v, $"{path}.{name}[{n++}]", errors, allowBool: false);
                }
                if (n > MaxAttributes)
                {
                    errors.Add($"{path}.{name}", $"must have at most {MaxAttributes} values");
                }
            }
            else
            {
                Scalar(value, $"{path}.{name}", errors, allowBool: true);
            }
        }
        return errors.Count == before ? a.GetRawText() : null;
    }

    private static void Scalar(System.Text.Json.JsonElement v, string path, ValidationErrors errors, bool allowBool)
    {
        switch (v.ValueKind)
        {
            case System.Text.Json.JsonValueKind.String:
                try
                {
                    errors.Text(path, v.GetString(), MaxAttributeText);
                }
                catch (InvalidOperationException)
                {
                    errors.Add(path, "is not text");
                }
                break;
            case System.Text.Json.JsonValueKind.Number when v.TryGetDouble(out var d) && double.IsFinite(d):
                break;
            case System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False when allowBool:
                break;
            default:
                errors.Add(path, allowBool ? "must be a string, a finite number, a bool or a list of strings and numbers" : "must be a string or a finite number");
                break;
        }
    }

    public static CatalogPatch ToPatch(this CatalogPatchRequest r, ValidationErrors errors) => new()
    {
        AttributesJson = Attributes(r.Attributes, "attributes", errors),
        Title = r.Title,
        Price = r.Price,
        InStock = r.InStock,
        Currency = r.Currency,
        Categories = r.Categories?.ToArray(),
        Tags = r.Tags?.ToArray(),
        Brand = r.Brand,
        Url = r.Url,
        ImageUrl = r.ImageUrl,
    };

    public static CatalogItemResponse ToResponse(this CatalogItem i) => new(
        i.Id, i.Title, i.Categories, i.Price, i.Currency, i.InStock, i.Tags, i.Url, i.ImageUrl, i.Brand,
        DateTimeOffset.FromUnixTimeMilliseconds(i.UpdatedAt),
        i.AttributesJson is null ? null : System.Text.Json.JsonDocument.Parse(i.AttributesJson).RootElement.Clone());
}

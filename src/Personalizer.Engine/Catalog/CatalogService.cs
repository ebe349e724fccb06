using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Catalog;

public sealed class CatalogService(CatalogStore catalog, IChangeFeed changes, TimeProvider time)
{
    public const int MaxTitleLength = 512;
    public const int MaxCategories = 20;
    public const int MaxTags = 50;

    public CatalogItem? Find(string site, string itemId) => catalog.Get(site).Find(itemId);

    public CatalogSnapshot Snapshot(string site) => catalog.Get(site);

    public async Task<int> UpsertAsync(string site, CatalogItem[] items, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var item in items)
        {
            item.UpdatedAt = now;
        }
        var outcome = await changes.SubmitAsync(new CatalogUpsertRecord(site, items), ct).ConfigureAwait(false);
        return outcome.Applied;
    }

    public static void Validate(CatalogItem item, string path, ValidationErrors errors)
    {
        errors.Id($"{path}.id", item.Id);
        errors.Text($"{path}.title", item.Title, MaxTitleLength, required: true);
        errors.Number($"{path}.price", item.Price, 0, 1e9);
        if (item.Currency is not null && (item.Currency.Length != 3 || !item.Currency.All(char.IsAsciiLetterUpper)))
        {
            errors.Add($"{path}.currency", "must be a three-letter ISO 4217 code such as EUR");
        }
        if (item.Categories.Length > MaxCategories)
        {
            errors.Add($"{path}.categories", $"must have at most {MaxCategories} entries");
        }
        for (var i = 0; i < item.Categories.Length; i++)
        {
            item.Categories[i] = ValidationErrors.TrimName(item.Categories[i])!;
            errors.Name($"{path}.categories[{i}]", item.Categories[i]);
        }
        if (item.Tags.Length > MaxTags)
        {
            errors.Add($"{path}.tags", $"must have at most {MaxTags} entries");
        }
        for (var i = 0; i < item.Tags.Length; i++)
        {
            errors.Id($"{path}.tags[{i}]", item.Tags[i]);
        }
        if (item.Brand is not null)
        {
            item.Brand = ValidationErrors.TrimName(item.Brand);
            errors.Name($"{path}.brand", item.Brand);
        }
        Url($"{path}.url", item.Url, errors);
        Url($"{path}.imageUrl", item.ImageUrl, errors);
    }

    private static void Url(string path, string? value, ValidationErrors errors)
    {
        if (value is null)
        {
            return;
        }
        errors.Text(path, value, 2048);
        // Relative paths or http(s) only: a javascript: or data: URL must never reach a storefront.
        if (!(value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal)) &&
            !(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
        {
            errors.Add(path, "must be an http(s) URL or a path starting with /");
        }
    }
}

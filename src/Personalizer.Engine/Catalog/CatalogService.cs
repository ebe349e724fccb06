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

    /// <summary>
    /// Changes some fields of an item, validated as a whole item would be; the patched item, or null
    /// when the site has no such item (errors collect what was wrong).
    /// </summary>
    public async Task<CatalogItem?> PatchAsync(string site, string itemId, CatalogPatch patch, ValidationErrors errors, CancellationToken ct = default)
    {
        if (Find(site, itemId) is not { } item)
        {
            return null;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var patched = patch.ApplyTo(item, now);
        Validate(patched, "", errors);
        if (!errors.IsEmpty)
        {
            return patched;
        }
        var trimmed = new CatalogPatch
        {
            Title = patch.Title,
            Price = patch.Price,
            InStock = patch.InStock,
            Currency = patch.Currency,
            Categories = patch.Categories is null ? null : patched.Categories,
            Tags = patch.Tags,
            Brand = patch.Brand is null ? null : patched.Brand,
            Url = patch.Url,
            ImageUrl = patch.ImageUrl,
            AttributesJson = patch.AttributesJson,
        };
        await changes.SubmitAsync(new CatalogChangeRecord(site, itemId, trimmed, now), ct).ConfigureAwait(false);
        return Find(site, itemId) ?? patched;
    }

    /// <summary>Deletes an item; false when the site has no such item.</summary>
    public async Task<bool> DeleteAsync(string site, string itemId, CancellationToken ct = default)
    {
        if (Find(site, itemId) is null)
        {
            return false;
        }
        await changes.SubmitAsync(new CatalogChangeRecord(site, itemId, null, time.GetUtcNow().ToUnixTimeMilliseconds()), ct).ConfigureAwait(false);
        return true;
    }

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

    /// <summary>Checks an item; paths start with <paramref name="path"/> (empty: the field names alone).</summary>
    public static void Validate(CatalogItem item, string path, ValidationErrors errors)
    {
        string At(string field) => path.Length == 0 ? field : $"{path}.{field}";

        errors.Id(At("id"), item.Id);
        errors.Text(At("title"), item.Title, MaxTitleLength, required: true);
        errors.Number(At("price"), item.Price, 0, 1e9);
        if (item.Currency is not null && (item.Currency.Length != 3 || !item.Currency.All(char.IsAsciiLetterUpper)))
        {
            errors.Add(At("currency"), "must be a three-letter ISO 4217 code such as EUR");
        }
        if (item.Categories.Length > MaxCategories)
        {
            errors.Add(At("categories"), $"must have at most {MaxCategories} entries");
        }
        for (var i = 0; i < item.Categories.Length; i++)
        {
            item.Categories[i] = ValidationErrors.TrimName(item.Categories[i])!;
            errors.Name(At($"categories[{i}]"), item.Categories[i]);
        }
        if (item.Tags.Length > MaxTags)
        {
            errors.Add(At("tags"), $"must have at most {MaxTags} entries");
        }
        for (var i = 0; i < item.Tags.Length; i++)
        {
            errors.Id(At($"tags[{i}]"), item.Tags[i]);
        }
        if (item.Brand is not null)
        {
            item.Brand = ValidationErrors.TrimName(item.Brand);
            errors.Name(At("brand"), item.Brand);
        }
        Url(At("url"), item.Url, errors);
        Url(At("imageUrl"), item.ImageUrl, errors);
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

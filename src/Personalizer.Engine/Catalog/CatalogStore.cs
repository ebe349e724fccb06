using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Personalizer.Engine.Catalog;

/// <summary>An immutable view of one site's catalogue; replaced whole on every upsert.</summary>
public sealed class CatalogSnapshot
{
    public CatalogSnapshot(IEnumerable<CatalogItem> items)
    {
        Items = items.ToFrozenDictionary(i => i.Id, StringComparer.Ordinal);
        All = [.. Items.Values.OrderBy(i => i.Id, StringComparer.Ordinal)];
    }

    public FrozenDictionary<string, CatalogItem> Items { get; }

    /// <summary>Every item, ordered by id (a stable order for fallbacks).</summary>
    public CatalogItem[] All { get; }

    public CatalogItem? Find(string? id) => id is not null && Items.TryGetValue(id, out var item) ? item : null;

    public static CatalogSnapshot Empty { get; } = new([]);
}

/// <summary>The catalogue of every site, read lock-free; written only by the pipeline's applier.</summary>
public sealed class CatalogStore
{
    private readonly ConcurrentDictionary<string, CatalogSnapshot> _sites = new(StringComparer.Ordinal);

    public CatalogSnapshot Get(string site) => _sites.TryGetValue(site, out var s) ? s : CatalogSnapshot.Empty;

    internal void Upsert(string site, IReadOnlyCollection<CatalogItem> items)
    {
        var current = Get(site);
        var merged = new Dictionary<string, CatalogItem>(current.Items, StringComparer.Ordinal);
        foreach (var item in items)
        {
            merged[item.Id] = item;
        }
        _sites[site] = new CatalogSnapshot(merged.Values);
    }

    /// <summary>Patches or deletes (null patch) one item; false when the site has no such item.</summary>
    internal bool Change(string site, string itemId, CatalogPatch? patch, long at)
    {
        var current = Get(site);
        if (current.Find(itemId) is not { } item)
        {
            return false;
        }
        var items = new Dictionary<string, CatalogItem>(current.Items, StringComparer.Ordinal);
        if (patch is null)
        {
            items.Remove(itemId);
        }
        else
        {
            items[itemId] = patch.ApplyTo(item, at);
        }
        _sites[site] = new CatalogSnapshot(items.Values);
        return true;
    }

    internal Dictionary<string, CatalogItem[]> Snapshot() =>
        _sites.ToDictionary(kv => kv.Key, kv => kv.Value.All, StringComparer.Ordinal);

    internal void Restore(Dictionary<string, CatalogItem[]> snapshot)
    {
        _sites.Clear();
        foreach (var (site, items) in snapshot)
        {
            _sites[site] = new CatalogSnapshot(items);
        }
    }
}

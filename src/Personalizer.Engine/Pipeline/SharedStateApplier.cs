using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Pipeline;

/// <summary>
/// Applies a change of shared state (catalogue, configuration): by the ledger on one node, by the
/// change feed on every node of a shared store. Deterministic, so every node reaches the same versions.
/// </summary>
internal static class SharedStateApplier
{
    public static ApplyOutcome Apply(CatalogStore catalog, CatalogUpsertRecord r)
    {
        catalog.Upsert(r.SiteId, r.Items);
        return new ApplyOutcome { Applied = r.Items.Length };
    }

    public static ApplyOutcome Apply(ConfigurationStore configuration, ConfigChangeRecord r)
    {
        var result = configuration.Apply(r.SiteId, r.Change);
        return new ApplyOutcome { Applied = result.Status == ConfigChangeStatus.Applied ? 1 : 0, Config = result };
    }
}

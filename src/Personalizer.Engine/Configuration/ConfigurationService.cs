using System.Collections.Immutable;
using System.Text.Json;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Configuration;

/// <summary>Merchandiser configuration: every change goes through the log and makes a new version.</summary>
public sealed class ConfigurationService(ConfigurationStore store, Ledger ledger, TimeProvider time)
{
    public const int MaxVariants = 50;
    public const int MaxContentBytes = 16 * 1024;
    public const int MaxCount = 100;

    public SiteConfiguration Current(string site) => store.Current(site);

    public ImmutableArray<SiteConfiguration> History(string site) => store.History(site);

    public Task<ConfigChangeResult> PutSlotAsync(string site, SlotDefinition slot, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.PutSlot, Id = slot.Id, Slot = slot, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> DeleteSlotAsync(string site, string slotId, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.DeleteSlot, Id = slotId, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> RollbackAsync(string site, int version, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.Rollback, TargetVersion = version, Author = author, At = Now() }, ct);

    private async Task<ConfigChangeResult> SubmitAsync(string site, ConfigChange change, CancellationToken ct)
    {
        var outcome = await ledger.SubmitAsync(new ConfigChangeRecord(site, change), ct).ConfigureAwait(false);
        return outcome.Config;
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    public static void Validate(SlotDefinition slot, ValidationErrors errors)
    {
        errors.Id("id", slot.Id);
        errors.Text("description", slot.Description, 1024);
        if (slot.Kind == SlotKind.Content)
        {
            if (slot.Variants.Length == 0)
            {
                errors.Add("variants", "a content slot needs at least one variant");
            }
            else if (slot.Variants.Length > MaxVariants)
            {
                errors.Add("variants", $"must have at most {MaxVariants} variants");
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < slot.Variants.Length; i++)
            {
                var v = slot.Variants[i];
                if (errors.Id($"variants[{i}].id", v.Id) && !seen.Add(v.Id))
                {
                    errors.Add($"variants[{i}].id", $"'{v.Id}' is used by another variant of this slot");
                }
                if (System.Text.Encoding.UTF8.GetByteCount(v.ContentJson) > MaxContentBytes)
                {
                    errors.Add($"variants[{i}].content", $"must be at most {MaxContentBytes} bytes of JSON");
                }
                else
                {
                    try
                    {
                        using var doc = JsonDocument.Parse(v.ContentJson);
                        if (doc.RootElement.ValueKind != JsonValueKind.Object)
                        {
                            errors.Add($"variants[{i}].content", "must be a JSON object");
                        }
                    }
                    catch (JsonException)
                    {
                        errors.Add($"variants[{i}].content", "must be a JSON object");
                    }
                }
                for (var t = 0; t < v.Tags.Length; t++)
                {
                    errors.Id($"variants[{i}].tags[{t}]", v.Tags[t]);
                }
            }
            if (slot.DefaultVariant is null)
            {
                errors.Add("defaultVariant", "is required for a content slot");
            }
            else if (slot.Variants.Length > 0 && slot.FindVariant(slot.DefaultVariant) is null)
            {
                errors.Add("defaultVariant", $"'{slot.DefaultVariant}' is not one of the slot's variants");
            }
        }
        else if (slot.Kind == SlotKind.Recommendations)
        {
            if (Array.IndexOf(RecommendationStrategies.All, slot.Strategy) < 0)
            {
                errors.Add("strategy", $"must be one of: {string.Join(", ", RecommendationStrategies.All)}");
            }
            if (slot.Count < 1 || slot.Count > MaxCount)
            {
                errors.Add("count", $"must be from 1 to {MaxCount}");
            }
            if (slot.Variants.Length > 0)
            {
                errors.Add("variants", "a recommendations slot has no variants");
            }
            var f = slot.Filters;
            for (var i = 0; i < f.IncludeCategories.Length; i++)
            {
                errors.Id($"filters.includeCategories[{i}]", f.IncludeCategories[i]);
            }
            for (var i = 0; i < f.ExcludeCategories.Length; i++)
            {
                errors.Id($"filters.excludeCategories[{i}]", f.ExcludeCategories[i]);
            }
            if (f.MaxPerCategory < 0 || f.MaxPerCategory > MaxCount)
            {
                errors.Add("filters.maxPerCategory", $"must be from 0 (no limit) to {MaxCount}");
            }
        }
        else
        {
            errors.Add("kind", $"must be '{SlotKinds.Content}' or '{SlotKinds.Recommendations}'");
        }
    }
}

using System.Collections.Immutable;
using System.Text.Json;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Rules;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Configuration;

/// <summary>Merchandiser configuration: every change goes through the log and makes a new version.</summary>
public sealed partial class ConfigurationService(ConfigurationStore store, IChangeFeed changes, TimeProvider time)
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

    public Task<ConfigChangeResult> PutRuleAsync(string site, RuleDefinition rule, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.PutRule, Id = rule.Id, Rule = rule, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> DeleteRuleAsync(string site, string ruleId, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.DeleteRule, Id = ruleId, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> PutSegmentAsync(string site, SegmentDefinition segment, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.PutSegment, Id = segment.Id, Segment = segment, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> DeleteSegmentAsync(string site, string segmentId, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.DeleteSegment, Id = segmentId, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> PutExperimentAsync(string site, ExperimentDefinition experiment, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.PutExperiment, Id = experiment.Id, Experiment = experiment, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> DeleteExperimentAsync(string site, string experimentId, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.DeleteExperiment, Id = experimentId, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> PutTriggerAsync(string site, TriggerDefinition trigger, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.PutTrigger, Id = trigger.Id, Trigger = trigger, Author = author, At = Now() }, ct);

    public Task<ConfigChangeResult> DeleteTriggerAsync(string site, string triggerId, string author, CancellationToken ct = default) =>
        SubmitAsync(site, new ConfigChange { Kind = ConfigChangeKind.DeleteTrigger, Id = triggerId, Author = author, At = Now() }, ct);

    /// <summary>Compiles a condition against the site's current segments.</summary>
    public CompileResult CompileCondition(string site, string condition, bool items = false) =>
        ConditionCompiler.Compile(condition, id => Current(site).CompiledSegments.Index.TryGetValue(id, out var i) ? i : null, items);

    /// <summary>
    /// Checks a segment change against the current version: its own condition, and that every segment
    /// reference in the configuration still compiles (no unknown ids, no cycles) once it is in place.
    /// </summary>
    public IReadOnlyList<ConditionError> CompileSegment(string site, SegmentDefinition segment)
    {
        var whens = Current(site).Segments.Values.ToDictionary(s => s.Id, s => s.When, StringComparer.Ordinal);
        whens[segment.Id] = segment.When;
        var (_, errors) = CompiledSegments.Build(whens);
        return errors.TryGetValue(segment.Id, out var own) ? own : [];
    }

    /// <summary>Rules and segments whose conditions name a segment; deleting it would break them.</summary>
    public IReadOnlyList<string> SegmentUsers(string site, string segmentId)
    {
        var current = Current(site);
        var users = new List<string>();
        foreach (var rules in current.RulesBySlot.Values)
        {
            users.AddRange(rules.Where(r => r.Condition.SegmentsUsed.Contains(segmentId)).Select(r => $"rule:{r.Definition.Id}"));
        }
        foreach (var (kind, id, when) in current.Experiments.Values.Select(e => ("experiment", e.Id, e.Audience))
            .Concat(current.Triggers.Values.Select(t => ("trigger", t.Id, t.When))))
        {
            if (when is not null && CompileCondition(site, when).Condition is { } condition && condition.SegmentsUsed.Contains(segmentId))
            {
                users.Add($"{kind}:{id}");
            }
        }
        for (var i = 0; i < current.CompiledSegments.Count; i++)
        {
            if (current.CompiledSegments[i].SegmentsUsed.Contains(segmentId))
            {
                users.Add($"segment:{current.CompiledSegments.Ids[i]}");
            }
        }
        return users;
    }

    public static void Validate(RuleDefinition rule, SiteConfiguration current, ValidationErrors errors)
    {
        errors.Id("id", rule.Id);
        errors.Text("description", rule.Description, 1024);
        if (errors.Id("slot", rule.Slot) && !current.Slots.TryGetValue(rule.Slot, out _))
        {
            errors.Add("slot", $"this site has no slot '{rule.Slot}'");
        }
        if (rule.Priority is < -1_000_000 or > 1_000_000)
        {
            errors.Add("priority", "must be from -1000000 to 1000000");
        }
        for (var i = 0; i < rule.Tags.Length; i++)
        {
            errors.Id($"tags[{i}]", rule.Tags[i]);
        }
        if (current.Slots.TryGetValue(rule.Slot, out var slot))
        {
            var then = rule.Then;
            if (slot.Kind == SlotKind.Content)
            {
                if (then.Variant is null)
                {
                    errors.Add("then.variant", "a rule for a content slot names the variant to show");
                }
                else if (slot.FindVariant(then.Variant) is null)
                {
                    errors.Add("then.variant", $"slot '{slot.Id}' has no variant '{then.Variant}'");
                }
            }
            else if (then.Variant is not null)
            {
                errors.Add("then.variant", "a recommendations slot has no variants; use includeCategories, excludeCategories, boostCategories, items or boostItems");
            }
            if (slot.Kind == SlotKind.Content && (then.Items is not null || then.BoostItems is not null))
            {
                errors.Add(then.Items is not null ? "then.items" : "then.boostItems", "item conditions are for recommendations slots; a content slot shows a variant");
            }
            foreach (var (name, values) in new[] { ("includeCategories", then.IncludeCategories), ("excludeCategories", then.ExcludeCategories), ("boostCategories", then.BoostCategories) })
            {
                for (var i = 0; i < values.Length; i++)
                {
                    errors.Id($"then.{name}[{i}]", values[i]);
                }
            }
        }
        if (rule.Schedule?.Resolve().Error is { } scheduleError)
        {
            var colon = scheduleError.IndexOf(':', StringComparison.Ordinal);
            errors.Add(scheduleError[..colon], scheduleError[(colon + 2)..]);
        }
    }

    private async Task<ConfigChangeResult> SubmitAsync(string site, ConfigChange change, CancellationToken ct)
    {
        var outcome = await changes.SubmitAsync(new ConfigChangeRecord(site, change), ct).ConfigureAwait(false);
        return (ConfigChangeResult)outcome.Detail!;
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    public static void Validate(SlotDefinition slot, ValidationErrors errors)
    {
        errors.Id("id", slot.Id);
        errors.Text("description", slot.Description, 1024);
        if (slot.BudgetMs is < 1 or > 60_000)
        {
            errors.Add("budgetMs", "must be from 1 to 60000 milliseconds (the decide's own budget still bounds it)");
        }
        for (var i = 0; i < slot.Fallbacks.Length; i++)
        {
            if (slot.Kind == SlotKind.Content)
            {
                errors.Add("fallbacks", "a content slot falls back to its default variant; fallback chains are for recommendations slots");
                break;
            }
            if (Array.IndexOf(FallbackSteps.All, slot.Fallbacks[i]) < 0)
            {
                errors.Add($"fallbacks[{i}]", $"must be one of: {string.Join(", ", FallbackSteps.All)}");
            }
        }
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
            ValidateFilters(slot.Filters, "filters", errors);
        }
        else
        {
            errors.Add("kind", $"must be '{SlotKinds.Content}' or '{SlotKinds.Recommendations}'");
        }
    }

    /// <summary>
    /// Checks (and trims the names of) a set of recommendation filters: a slot's (<c>filters</c>) or a page's
    /// own for one slot of a decide (<c>filters.SLOT</c>).
    /// </summary>
    public static void ValidateFilters(RecommendationFilters f, string prefix, ValidationErrors errors)
    {
        for (var i = 0; i < f.IncludeCategories.Length; i++)
        {
            f.IncludeCategories[i] = ValidationErrors.TrimName(f.IncludeCategories[i])!;
            errors.Name($"{prefix}.includeCategories[{i}]", f.IncludeCategories[i]);
        }
        for (var i = 0; i < f.ExcludeCategories.Length; i++)
        {
            f.ExcludeCategories[i] = ValidationErrors.TrimName(f.ExcludeCategories[i])!;
            errors.Name($"{prefix}.excludeCategories[{i}]", f.ExcludeCategories[i]);
        }
        foreach (var (name, values) in new[] { ("includeBrands", f.IncludeBrands), ("excludeBrands", f.ExcludeBrands), ("includeTags", f.IncludeTags), ("excludeTags", f.ExcludeTags) })
        {
            if (values.Length > 50)
            {
                errors.Add($"{prefix}.{name}", "must have at most 50 entries");
            }
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = ValidationErrors.TrimName(values[i])!;
                errors.Name($"{prefix}.{name}[{i}]", values[i]);
            }
        }
        for (var i = 0; i < f.Attributes.Length; i++)
        {
            f.Attributes[i] = ValidationErrors.TrimName(f.Attributes[i])!;
            if (errors.Name($"{prefix}.attributes[{i}]", f.Attributes[i]) && f.Attributes[i].IndexOf(':', StringComparison.Ordinal) <= 0)
            {
                errors.Add($"{prefix}.attributes[{i}]", "must be name:value, e.g. material:wool");
            }
        }
        if (f.MinPrice is { } min && !(double.IsFinite(min) && min >= 0))
        {
            errors.Add($"{prefix}.minPrice", "must be a number, 0 or more");
        }
        if (f.MaxPrice is { } max && !(double.IsFinite(max) && max >= 0))
        {
            errors.Add($"{prefix}.maxPrice", "must be a number, 0 or more");
        }
        if (f.MinPrice > f.MaxPrice)
        {
            errors.Add($"{prefix}.minPrice", "must not be above maxPrice");
        }
        if (f.MaxPerCategory < 0 || f.MaxPerCategory > MaxCount)
        {
            errors.Add($"{prefix}.maxPerCategory", $"must be from 0 (no limit) to {MaxCount}");
        }
    }
}

using Personalizer.Engine.Configuration;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Decisions;

namespace Personalizer.Engine.Strategies;

/// <summary>
/// Order 500, content slots, after rules and before the default: chooses a variant by what is known of
/// the visitor, without a merchandiser writing a rule. A variant says what it is for with tags, checked
/// in this order: <c>cart:nonempty</c> (a cart reminder), <c>lifecycle:STAGE</c>, <c>rfm:SEGMENT</c>
/// (source <c>lifecycle</c>), <c>interest:CATEGORY</c> for each interest the visitor declared, in their
/// order (source <c>interest</c>), then <c>affinity:CATEGORY</c> for the top category and <c>brand:BRAND</c>
/// for the top brand (source <c>affinity</c>). A category the visitor excluded is never used.
/// </summary>
internal sealed class InformationStrategy : ISlotStrategy
{
    public const string Lifecycle = "lifecycle";
    public const string Affinity = "affinity";
    public const string Interest = "interest";

    private static readonly Dictionary<string, string> LifecycleTags = CustomerInsights.Stages.ToDictionary(s => s, s => "lifecycle:" + s, StringComparer.Ordinal);
    private static readonly Dictionary<string, string> RfmTags = CustomerInsights.Segments.ToDictionary(s => s, s => "rfm:" + s, StringComparer.Ordinal);

    public string Name => "information";
    public int Order => StrategyOrder.InformationDriven;
    public bool AppliesTo(SlotDefinition slot) => slot.Kind == SlotKind.Content && slot.Variants.Length > 0;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        var profile = context.Profile;
        var byTag = slot.VariantsByTag;
        if (profile is null || byTag.Count == 0)
        {
            return ValueTask.FromResult<SlotDecision?>(null);
        }
        var conditions = context.Conditions;
        if (profile.Cart.Count > 0 && Pick(byTag, "cart:nonempty") is { } reminder)
        {
            return Answer(context, slot, reminder, Lifecycle, "the cart is not empty (cart:nonempty)");
        }
        var insight = conditions.Insight;
        if (Pick(byTag, LifecycleTags[insight.Lifecycle]) is { } stage)
        {
            return Answer(context, slot, stage, Lifecycle, $"lifecycle stage {insight.Lifecycle} (lifecycle:{insight.Lifecycle})");
        }
        if (insight.Rfm is { } rfm && Pick(byTag, RfmTags[rfm.Segment]) is { } segment)
        {
            return Answer(context, slot, segment, Lifecycle, $"RFM segment {rfm.Segment} (rfm:{rfm.Segment})");
        }
        // What the visitor declared in the preference centre goes before what their behaviour suggests.
        foreach (var interest in profile.Preferences.Interests)
        {
            if (!profile.Preferences.ExcludedCategories.Contains(interest) && Pick(byTag, "interest:", interest) is { } declared)
            {
                return Answer(context, slot, declared, Interest, $"declared interest {interest} (interest:{interest})");
            }
        }
        var top = conditions.TopCategory;
        if (top.Length > 0 && !profile.Preferences.ExcludedCategories.Contains(top) && Pick(byTag, "affinity:", top) is { } category)
        {
            return Answer(context, slot, category, Affinity, $"top category affinity {top} (affinity:{top})");
        }
        var brand = conditions.TopBrand;
        if (brand.Length > 0 && Pick(byTag, "brand:", brand) is { } branded)
        {
            return Answer(context, slot, branded, Affinity, $"top brand affinity {brand} (brand:{brand})");
        }
        context.Trace?.Add(new TraceStep(Name, "passed", $"no variant tagged for stage {insight.Lifecycle}, segment {insight.Rfm?.Segment ?? "-"}, category '{top}' or brand '{brand}'"));
        return ValueTask.FromResult<SlotDecision?>(null);
    }

    private static SlotVariant? Pick(System.Collections.Frozen.FrozenDictionary<string, SlotVariant> byTag, string tag) =>
        byTag.TryGetValue(tag, out var v) ? v : null;

    /// <summary>A prefixed tag looked up without building the string.</summary>
    private static SlotVariant? Pick(System.Collections.Frozen.FrozenDictionary<string, SlotVariant> byTag, string prefix, string value)
    {
        var length = prefix.Length + value.Length;
        Span<char> key = length <= 256 ? stackalloc char[length] : new char[length];
        prefix.CopyTo(key);
        value.CopyTo(key[prefix.Length..]);
        return byTag.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var v) ? v : null;
    }

    private static ValueTask<SlotDecision?> Answer(DecisionContext context, SlotDefinition slot, SlotVariant variant, string source, string reason) =>
        ValueTask.FromResult<SlotDecision?>(new SlotDecision
        {
            SlotId = slot.Id,
            Variant = variant,
            Source = source,
            Reason = context.Explain ? reason : null,
        });
}

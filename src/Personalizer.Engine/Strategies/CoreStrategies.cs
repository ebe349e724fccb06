using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Engine.Strategies;

/// <summary>First link: a visitor who switched personalization off gets the default variant and non-personal lists.</summary>
internal sealed class PreferenceGateStrategy(TrendingTracker trending) : ISlotStrategy
{
    public string Name => StrategyNames.PreferenceGate;
    public int Order => StrategyOrder.PreferenceGate;
    public bool AppliesTo(SlotDefinition slot) => true;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        if (context.PersonalizationAllowed)
        {
            return ValueTask.FromResult<SlotDecision?>(null);
        }
        var decision = slot.Kind == SlotKind.Content
            ? DefaultStrategy.Content(slot, "personalization_off")
            : TrendingStrategy.Answer(trending, context, slot, reason: "personalization_off");
        return ValueTask.FromResult<SlotDecision?>(decision);
    }
}

/// <summary>Recommendation slots: the site's time-decayed popularity, filtered for the visitor.</summary>
internal sealed class TrendingStrategy(TrendingTracker trending) : ISlotStrategy
{
    public string Name => StrategyNames.Trending;
    public int Order => StrategyOrder.Recommendations + 50;
    public bool AppliesTo(SlotDefinition slot) => slot.Kind == SlotKind.Recommendations;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        var decision = Answer(trending, context, slot, reason: null);
        return ValueTask.FromResult<SlotDecision?>(decision.Items!.Count > 0 ? decision : null);
    }

    public static SlotDecision Answer(TrendingTracker trending, DecisionContext context, SlotDefinition slot, string? reason)
    {
        var items = RecommendationFilter.Apply(RecommendationStrategy.Boost(trending.Top(context.Site), context, context.Boost), context, slot);
        if (items.Count < slot.Count)
        {
            RecommendationFilter.FillFromCatalog(items, context, slot);
        }
        return new SlotDecision { SlotId = slot.Id, Items = items, Source = StrategyNames.Trending, Reason = reason };
    }
}

/// <summary>Last link: the default variant, or the catalogue in a stable order.</summary>
internal sealed class DefaultStrategy : ISlotStrategy
{
    public string Name => StrategyNames.Default;
    public int Order => StrategyOrder.Default;
    public bool AppliesTo(SlotDefinition slot) => true;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        if (slot.Kind == SlotKind.Content)
        {
            return ValueTask.FromResult<SlotDecision?>(Content(slot, reason: null));
        }
        var items = new List<RecommendedItem>(slot.Count);
        RecommendationFilter.FillFromCatalog(items, context, slot);
        return ValueTask.FromResult<SlotDecision?>(new SlotDecision { SlotId = slot.Id, Items = items, Source = StrategyNames.Default });
    }

    public static SlotDecision Content(SlotDefinition slot, string? reason, string source = StrategyNames.Default) => new()
    {
        SlotId = slot.Id,
        Variant = slot.Default ?? (slot.Variants.Length > 0 ? slot.Variants[0] : null),
        Source = source,
        Reason = reason,
    };
}

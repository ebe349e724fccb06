using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;

namespace Personalizer.Engine.Strategies;

/// <summary>
/// One link of a slot's chain. The chain runs strategies by <see cref="Order"/>; the first that answers
/// wins. Return null to pass. A strategy that completes synchronously costs no allocation; one that
/// does not finish before the decide deadline is abandoned and the slot's fallback answers.
/// </summary>
public interface ISlotStrategy
{
    string Name { get; }

    /// <summary>Position in the chain; see <see cref="StrategyOrder"/>.</summary>
    int Order { get; }

    bool AppliesTo(SlotDefinition slot);

    ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct);
}

/// <summary>The chain of DESIGN.md, as numbers with room between them.</summary>
public static class StrategyOrder
{
    public const int PreferenceGate = 100;
    public const int Experiments = 200;
    public const int Rules = 300;
    public const int Recommendations = 400;
    public const int InformationDriven = 500;
    public const int Default = 1000;
}

public static class StrategyNames
{
    public const string PreferenceGate = "preference-gate";
    public const string Trending = "trending";
    public const string Default = "default";
    public const string Fallback = "fallback";
}

public static class RecommendationStrategyNames
{
    /// <summary>The page attribute (<c>context.attributes.itemId</c>) naming the item a "similar" or "bought together" list is about.</summary>
    public const string ItemAttribute = "itemId";
}

using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Engine.Strategies;

/// <summary>
/// Merchandiser rules of the slot, by priority (higher first, ties by id): the first enabled rule in
/// its schedule whose condition holds answers — a variant for a content slot, filtered and boosted
/// items for a recommendations slot. With explain, every rule is evaluated and its fate recorded.
/// </summary>
internal sealed class RuleStrategy(TrendingTracker trending, RecommendationStrategy recommendations) : ISlotStrategy
{
    public string Name => "rules";
    public int Order => StrategyOrder.Rules;
    public bool AppliesTo(SlotDefinition slot) => true;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        var rules = context.Configuration.RulesFor(slot.Id);
        CompiledRule? winner = null;
        foreach (var rule in rules)
        {
            var id = "rule:" + rule.Definition.Id;
            if (!rule.Definition.Enabled)
            {
                context.Trace?.Add(new TraceStep(id, "skipped", "disabled"));
                continue;
            }
            if (!rule.InSchedule(context.NowMs))
            {
                context.Trace?.Add(new TraceStep(id, "skipped", "outside its schedule"));
                continue;
            }
            if (winner is not null && context.Trace is null)
            {
                break;
            }
            var held = rule.Condition.Evaluate(context.Conditions);
            if (context.Trace is not null)
            {
                var outcome = !held ? "condition false"
                    : winner is null ? "won"
                    : $"condition true, lost to rule:{winner.Definition.Id} (priority {winner.Definition.Priority} vs {rule.Definition.Priority})";
                context.Trace.Add(new TraceStep(id, held && winner is null ? "won" : "lost", outcome));
            }
            if (held && winner is null)
            {
                winner = rule;
            }
        }
        return ValueTask.FromResult(winner is null ? null : Answer(context, slot, winner));
    }

    private SlotDecision? Answer(DecisionContext context, SlotDefinition slot, CompiledRule rule)
    {
        var source = "rule:" + rule.Definition.Id;
        var then = rule.Definition.Then;
        if (slot.Kind == SlotKind.Content)
        {
            var variant = slot.FindVariant(then.Variant);
            return variant is null ? null : new SlotDecision { SlotId = slot.Id, Variant = variant, Source = source };
        }
        var filtered = new SlotDefinition
        {
            Id = slot.Id,
            Kind = slot.Kind,
            Count = slot.Count,
            Strategy = slot.Strategy,
            Filters = slot.Filters with
            {
                IncludeCategories = then.IncludeCategories.Length > 0 ? then.IncludeCategories : slot.Filters.IncludeCategories,
                ExcludeCategories = [.. slot.Filters.ExcludeCategories, .. then.ExcludeCategories],
                ItemCondition = rule.Items,
                BoostItems = rule.BoostItems,
            },
        };
        // The rule's boosts, then the page's own for this decide.
        var boost = context.Boost.Length == 0 ? then.BoostCategories : [.. then.BoostCategories, .. context.Boost];
        // The slot's own strategy (the model's list, similar items…) under the rule's filters and boosts.
        if (recommendations.AppliesTo(filtered) && recommendations.Build(context, filtered, boost) is { Items.Count: > 0 } steered)
        {
            return new SlotDecision { SlotId = slot.Id, Items = steered.Items, Source = source, Reason = steered.Source };
        }
        var ranked = RecommendationStrategy.Boost(trending.Top(context.Site), context, boost, rule.BoostItems);
        var items = RecommendationFilter.Apply(ranked, context, filtered);
        if (items.Count < slot.Count)
        {
            RecommendationFilter.FillFromCatalog(items, context, filtered);
        }
        return new SlotDecision { SlotId = slot.Id, Items = items, Source = source };
    }
}

using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Strategies;

namespace Personalizer.Engine.Experiments;

/// <summary>
/// Order 200 in the chain: a visitor in a running experiment's audience gets the arm their bucket
/// falls in, with <c>source: "experiment:ID/ARM"</c>. Assignment is a hash of (experiment, visitor):
/// the same on every node and every call, with no state; a visitor merged into a customer's profile by
/// <c>identify</c> takes the customer's bucket, so all their devices share one arm.
/// </summary>
internal sealed class ExperimentStrategy(ThompsonWeights weights, RecommendationStrategy recommendations, TrendingTracker trending) : ISlotStrategy
{
    private const int ControlArm = ExperimentAssignment.ControlArm;

    public string Name => "experiments";
    public int Order => StrategyOrder.Experiments;
    public bool AppliesTo(SlotDefinition slot) => true;

    public ValueTask<SlotDecision?> DecideAsync(DecisionContext context, SlotDefinition slot, CancellationToken ct)
    {
        if (!context.Configuration.ExperimentsBySlot.TryGetValue(slot.Id, out var experiments))
        {
            return ValueTask.FromResult<SlotDecision?>(null);
        }
        foreach (var experiment in experiments)
        {
            if (experiment.Audience is { } audience && !audience.Evaluate(context.Conditions))
            {
                context.Trace?.Add(new TraceStep(Name, "skipped", $"experiment {experiment.Definition.Id}: visitor outside its audience"));
                continue;
            }
            var definition = experiment.Definition;
            var arm = ExperimentAssignment.Assign(definition, context.Profile?.VisitorId ?? context.VisitorId, weights.For(context.Site, definition));
            var answer = slot.Kind == SlotKind.Content ? ContentAnswer(experiment, slot, arm) : ItemsAnswer(context, experiment, slot, arm);
            return ValueTask.FromResult<SlotDecision?>(answer);
        }
        return ValueTask.FromResult<SlotDecision?>(null);
    }

    /// <summary>An arm shows its variant; the control group the slot's default variant.</summary>
    private static SlotDecision ContentAnswer(CompiledExperiment experiment, SlotDefinition slot, int arm) => arm == ControlArm
        ? DefaultStrategy.Content(slot, "control group", experiment.ControlSource)
        : new SlotDecision
        {
            SlotId = slot.Id,
            Variant = slot.FindVariant(experiment.Definition.Arms[arm].Variant) ?? slot.Default,
            Source = experiment.ArmSources[arm],
            Reason = "experiment arm",
        };

    /// <summary>
    /// An arm fills the slot with its strategy; the control group gets the slot's own strategy
    /// (<see cref="ControlKind.Default"/>) or trending items, nothing personal (<see cref="ControlKind.NoPersonalization"/>).
    /// A strategy with nothing to say (no model yet, nothing viewed) falls back to trending, under the same source.
    /// </summary>
    private SlotDecision ItemsAnswer(DecisionContext context, CompiledExperiment experiment, SlotDefinition slot, int arm)
    {
        var (filled, source, reason) = arm == ControlArm
            ? (experiment.Definition.Control == ControlKind.Default ? slot : null, experiment.ControlSource, "control group")
            : (experiment.ArmSlots[arm], experiment.ArmSources[arm], "experiment arm");
        var items = filled is not null && recommendations.AppliesTo(filled) && recommendations.Build(context, filled, boost: []) is { Items.Count: > 0 } built
            ? built.Items
            : TrendingStrategy.Answer(trending, context, slot, reason).Items;
        return new SlotDecision { SlotId = slot.Id, Items = items, Source = source, Reason = reason };
    }
}

/// <summary>Which arm a visitor is in: a hash of (experiment, visitor) into buckets, with no state.</summary>
public static class ExperimentAssignment
{
    /// <summary>The control group's arm name.</summary>
    public const string Control = "control";
    public const int ControlArm = -1;
    public const int Buckets = 10_000;

    /// <summary>The visitor's bucket in [0, 1): uniform, independent between experiments.</summary>
    public static double Bucket(string experimentId, string visitorId)
    {
        var text = experimentId + "\n" + visitorId;
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(text, buffer);
        return (XxHash3.HashToUInt64(buffer[..length]) % Buckets) / (double)Buckets;
    }

    /// <summary>
    /// The arm of a visitor, as an index into the arms (<see cref="ControlArm"/> for the control group):
    /// the control share first, then the arms in their order, each taking a range proportional to its
    /// weight. A weight change moves only the visitors between the old and new edges.
    /// </summary>
    public static int Assign(ExperimentDefinition experiment, string visitorId, double[]? weights = null)
    {
        var u = Bucket(experiment.Id, visitorId);
        var control = experiment.ControlPercent / 100;
        if (u < control || experiment.Arms.Length == 0)
        {
            return ControlArm;
        }
        var v = (u - control) / (1 - control);
        var total = 0.0;
        for (var i = 0; i < experiment.Arms.Length; i++)
        {
            total += weights?[i] ?? experiment.Arms[i].Weight;
        }
        var edge = 0.0;
        for (var i = 0; i < experiment.Arms.Length - 1; i++)
        {
            edge += (weights?[i] ?? experiment.Arms[i].Weight) / total;
            if (v < edge)
            {
                return i;
            }
        }
        return experiment.Arms.Length - 1;
    }
}

/// <summary>The current Thompson-sampling weights of each bandit experiment (each arm's probability of being best), refreshed from the results.</summary>
public sealed class ThompsonWeights
{
    private readonly ConcurrentDictionary<(string Site, string Experiment), double[]> _weights = new();

    public double[]? For(string site, ExperimentDefinition experiment) =>
        experiment.Allocation == ExperimentAllocation.Thompson && _weights.TryGetValue((site, experiment.Id), out var w) && w.Length == experiment.Arms.Length ? w : null;

    public void Set(string site, string experiment, double[] weights) => _weights[(site, experiment)] = weights;
}

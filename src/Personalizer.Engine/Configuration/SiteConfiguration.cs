using System.Collections.Frozen;
using MessagePack;
using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Configuration;

/// <summary>A rule ready to run: its definition, its compiled condition and its schedule in UTC.</summary>
public sealed class CompiledRule(RuleDefinition definition, CompiledCondition condition, long from, long until,
    CompiledCondition? items = null, CompiledCondition? boostItems = null)
{
    /// <summary>The compiled <c>then.items</c> (null: none).</summary>
    public CompiledCondition? Items { get; } = items;
    /// <summary>The compiled <c>then.boostItems</c> (null: none).</summary>
    public CompiledCondition? BoostItems { get; } = boostItems;
    public RuleDefinition Definition { get; } = definition;
    public CompiledCondition Condition { get; } = condition;
    public long From { get; } = from;
    public long Until { get; } = until;

    public bool InSchedule(long nowMs) => nowMs >= From && nowMs < Until;
}

/// <summary>
/// A running experiment ready to run: its audience compiled (null: everyone), the source each arm
/// answers with, and for a recommendations slot the slot as each arm fills it (the arm's strategy).
/// </summary>
public sealed class CompiledExperiment
{
    public CompiledExperiment(ExperimentDefinition definition, CompiledCondition? audience, SlotDefinition? slot)
    {
        Definition = definition;
        Audience = audience;
        ArmSources = [.. definition.Arms.Select(a => $"experiment:{definition.Id}/{a.Id}")];
        ControlSource = $"experiment:{definition.Id}/control";
        ArmSlots = slot is { Kind: SlotKind.Recommendations }
            ? [.. definition.Arms.Select(a => slot.WithStrategy(a.Strategy ?? slot.Strategy))]
            : [];
    }

    public ExperimentDefinition Definition { get; }
    public CompiledCondition? Audience { get; }

    /// <summary><c>experiment:ID/ARM</c> per arm, in arm order.</summary>
    public string[] ArmSources { get; }

    public string ControlSource { get; }

    /// <summary>Recommendations slots: the slot with each arm's strategy, in arm order (empty for content slots).</summary>
    public SlotDefinition[] ArmSlots { get; }
}

/// <summary>An enabled trigger with its condition compiled (null: always).</summary>
public sealed record CompiledTrigger(TriggerDefinition Definition, CompiledCondition? Condition);

/// <summary>
/// One immutable version of a site's configuration, compiled once: a decide takes one reference at
/// its start and sees that version to the end; a change publishes a new object (atomic swap).
/// </summary>
public sealed class SiteConfiguration
{
    public SiteConfiguration(int version, long createdAt, string author, string summary,
        IEnumerable<SlotDefinition> slots, IEnumerable<RuleDefinition>? rules = null, IEnumerable<SegmentDefinition>? segments = null,
        IEnumerable<ExperimentDefinition>? experiments = null, IEnumerable<TriggerDefinition>? triggers = null)
    {
        Version = version;
        CreatedAt = createdAt;
        Author = author;
        Summary = summary;
        Slots = slots.ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);
        Rules = (rules ?? []).ToFrozenDictionary(r => r.Id, StringComparer.Ordinal);
        Segments = (segments ?? []).ToFrozenDictionary(s => s.Id, StringComparer.Ordinal);

        // Validation keeps conditions that do not compile out of every version; one that still fails
        // here (a segment deleted under a rule's feet) compiles to "never" and so stays inert, never wrong.
        (CompiledSegments, _) = CompiledSegments.Build(Segments.ToDictionary(s => s.Key, s => s.Value.When, StringComparer.Ordinal));
        var compiled = new List<CompiledRule>();
        foreach (var rule in Rules.Values)
        {
            int? SegmentIndex(string id) => CompiledSegments.Index.TryGetValue(id, out var i) ? i : null;
            var result = ConditionCompiler.Compile(rule.When, SegmentIndex);
            var (from, until, scheduleError) = rule.Schedule?.Resolve() ?? (long.MinValue, long.MaxValue, null);
            var items = rule.Then.Items is { } itemText ? ConditionCompiler.Compile(itemText, SegmentIndex, items: true).Condition : null;
            var boostItems = rule.Then.BoostItems is { } boostText ? ConditionCompiler.Compile(boostText, SegmentIndex, items: true).Condition : null;
            if (result.Condition is null || scheduleError is not null || (rule.Then.Items is not null && items is null) || (rule.Then.BoostItems is not null && boostItems is null))
            {
                compiled.Add(new CompiledRule(rule, ConditionCompiler.Never(rule.When), 0, 0));
                continue;
            }
            compiled.Add(new CompiledRule(rule, result.Condition, from, until, items, boostItems));
        }
        Experiments = (experiments ?? []).ToFrozenDictionary(e => e.Id, StringComparer.Ordinal);
        Triggers = (triggers ?? []).ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
        CompiledTriggers = [.. Triggers.Values.Where(t => t.Enabled).OrderBy(t => t.Id, StringComparer.Ordinal).Select(t => new CompiledTrigger(t,
            string.IsNullOrWhiteSpace(t.When) ? null
                : ConditionCompiler.Compile(t.When, id => CompiledSegments.Index.TryGetValue(id, out var i) ? i : null).Condition ?? ConditionCompiler.Never(t.When)))];
        var running = new List<CompiledExperiment>();
        foreach (var experiment in Experiments.Values.Where(e => e.Status == ExperimentStatus.Running).OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            var audience = string.IsNullOrWhiteSpace(experiment.Audience) ? null
                : ConditionCompiler.Compile(experiment.Audience, id => CompiledSegments.Index.TryGetValue(id, out var i) ? i : null).Condition
                  ?? ConditionCompiler.Never(experiment.Audience);
            running.Add(new CompiledExperiment(experiment, audience, Slots.GetValueOrDefault(experiment.Slot)));
        }
        ExperimentsBySlot = running.GroupBy(e => e.Definition.Slot, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        RulesBySlot = compiled
            .GroupBy(r => r.Definition.Slot, StringComparer.Ordinal)
            .ToFrozenDictionary(
                g => g.Key,
                g => g.OrderByDescending(r => r.Definition.Priority).ThenBy(r => r.Definition.Id, StringComparer.Ordinal).ToArray(),
                StringComparer.Ordinal);
    }

    public int Version { get; }
    public long CreatedAt { get; }
    public string Author { get; }
    public string Summary { get; }
    public FrozenDictionary<string, SlotDefinition> Slots { get; }
    public FrozenDictionary<string, RuleDefinition> Rules { get; }
    public FrozenDictionary<string, SegmentDefinition> Segments { get; }
    public FrozenDictionary<string, ExperimentDefinition> Experiments { get; }
    public FrozenDictionary<string, TriggerDefinition> Triggers { get; }

    /// <summary>The enabled triggers with their conditions compiled, by id.</summary>
    public CompiledTrigger[] CompiledTriggers { get; }
    public CompiledSegments CompiledSegments { get; }

    /// <summary>Each slot's running experiments, by id.</summary>
    public FrozenDictionary<string, CompiledExperiment[]> ExperimentsBySlot { get; }

    /// <summary>Each slot's rules in the order they run: priority descending, then id.</summary>
    public FrozenDictionary<string, CompiledRule[]> RulesBySlot { get; }

    public CompiledRule[] RulesFor(string slotId) => RulesBySlot.TryGetValue(slotId, out var rules) ? rules : [];

    public static SiteConfiguration Empty { get; } = new(0, 0, "", "empty", []);
}

/// <summary>Serialized form of a configuration version inside a state snapshot.</summary>
[MessagePackObject]
public sealed class StoredConfigurationVersion
{
    [Key(0)] public int Version { get; set; }
    [Key(1)] public long CreatedAt { get; set; }
    [Key(2)] public string Author { get; set; } = "";
    [Key(3)] public string Summary { get; set; } = "";
    [Key(4)] public SlotDefinition[] Slots { get; set; } = [];
    [Key(5)] public RuleDefinition[] Rules { get; set; } = [];
    [Key(6)] public SegmentDefinition[] Segments { get; set; } = [];
    [Key(7)] public ExperimentDefinition[] Experiments { get; set; } = [];
    [Key(8)] public TriggerDefinition[] Triggers { get; set; } = [];

    public static StoredConfigurationVersion From(SiteConfiguration c) => new()
    {
        Version = c.Version,
        CreatedAt = c.CreatedAt,
        Author = c.Author,
        Summary = c.Summary,
        Slots = [.. c.Slots.Values],
        Rules = [.. c.Rules.Values],
        Segments = [.. c.Segments.Values],
        Experiments = [.. c.Experiments.Values],
        Triggers = [.. c.Triggers.Values],
    };

    public SiteConfiguration ToConfiguration() => new(Version, CreatedAt, Author, Summary, Slots, Rules, Segments, Experiments, Triggers);
}

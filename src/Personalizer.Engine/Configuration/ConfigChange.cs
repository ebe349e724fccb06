using MessagePack;

namespace Personalizer.Engine.Configuration;

public enum ConfigChangeKind : byte
{
    PutSlot = 1,
    DeleteSlot = 2,
    Rollback = 3,
    PutRule = 4,
    DeleteRule = 5,
    PutSegment = 6,
    DeleteSegment = 7,
    PutExperiment = 8,
    DeleteExperiment = 9,
    PutTrigger = 10,
    DeleteTrigger = 11,
}

/// <summary>One change of a site's configuration, as written to the log. Applying it makes a new version.</summary>
[MessagePackObject]
public sealed class ConfigChange
{
    [Key(0)] public ConfigChangeKind Kind { get; init; }
    [Key(1)] public string Id { get; init; } = "";
    [Key(2)] public SlotDefinition? Slot { get; init; }
    [Key(3)] public string Author { get; init; } = "";
    /// <summary>Unix milliseconds.</summary>
    [Key(4)] public long At { get; init; }
    /// <summary>For a rollback: the version whose content becomes current again.</summary>
    [Key(5)] public int TargetVersion { get; init; }
    [Key(6)] public RuleDefinition? Rule { get; init; }
    [Key(7)] public SegmentDefinition? Segment { get; init; }
    [Key(8)] public ExperimentDefinition? Experiment { get; init; }
    [Key(9)] public TriggerDefinition? Trigger { get; init; }
}

using MessagePack;

namespace Personalizer.Engine.Configuration;

public enum ExperimentStatus : byte
{
    Draft = 0,
    Running = 1,
    Stopped = 2,
}

public enum ExperimentAllocation : byte
{
    /// <summary>Arms get the traffic their weights say.</summary>
    Fixed = 0,
    /// <summary>Weights follow each arm's probability of being best on the goal (Thompson sampling), refreshed as results come in.</summary>
    Thompson = 1,
}

public enum ControlKind : byte
{
    /// <summary>The control group sees the slot's default (its default variant, or non-personal trending items).</summary>
    Default = 0,
    /// <summary>The control group gets no personalization at all: the slot's fallback.</summary>
    NoPersonalization = 1,
}

/// <summary>An A/B/n test on one slot. Part of the versioned site configuration, so it is shared, audited and rolled back like rules.</summary>
[MessagePackObject]
public sealed record ExperimentDefinition
{
    [Key(0)] public string Id { get; init; } = "";
    [Key(1)] public string Slot { get; init; } = "";
    [Key(2)] public string? Description { get; init; }
    /// <summary>A condition (segments allowed); visitors outside it are not in the experiment. Empty: everyone.</summary>
    [Key(3)] public string? Audience { get; init; }
    [Key(4)] public ExperimentArm[] Arms { get; init; } = [];
    /// <summary>Share of the audience, in percent, held out as the control group (arm <c>control</c>).</summary>
    [Key(5)] public double ControlPercent { get; init; }
    [Key(6)] public ControlKind Control { get; init; }
    /// <summary>The event type that counts as a conversion (e.g. <c>purchase</c>, <c>slot_click</c>, <c>add_to_cart</c>).</summary>
    [Key(7)] public string Goal { get; init; } = "purchase";
    /// <summary>How long after a visitor's first exposure a goal event still counts, in hours.</summary>
    [Key(8)] public double AttributionHours { get; init; } = 168;
    [Key(9)] public ExperimentStatus Status { get; init; }
    [Key(10)] public ExperimentAllocation Allocation { get; init; }
    /// <summary>Unix ms when it was first set running (results count from there).</summary>
    [Key(11)] public long StartedAt { get; init; }
}

[MessagePackObject]
public sealed class ExperimentArm
{
    [Key(0)] public string Id { get; init; } = "";
    /// <summary>Relative share of the non-control traffic.</summary>
    [Key(1)] public double Weight { get; init; } = 1;
    /// <summary>Content slots: the variant this arm shows.</summary>
    [Key(2)] public string? Variant { get; init; }
    /// <summary>Recommendation slots: the strategy this arm uses instead of the slot's own (e.g. <c>trending</c>, <c>similar</c>).</summary>
    [Key(3)] public string? Strategy { get; init; }
}

using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Validation;

public sealed class LimitOptions
{
    [Range(1, 10_000)]
    public int MaxEventsPerBatch { get; set; } = 500;

    [Range(1, 100)]
    public int MaxSlotsPerDecide { get; set; } = 20;

    [Range(1, 10_000)]
    public int MaxItemsPerUpsert { get; set; } = 1000;

    /// <summary>How far in the past an event's timestamp may lie, in days.</summary>
    [Range(1, 3650)]
    public int MaxEventAgeDays { get; set; } = 30;

    /// <summary>How far in the future an event's timestamp may lie (clock skew), in seconds.</summary>
    [Range(0, 86_400)]
    public int MaxClockSkewSeconds { get; set; } = 300;
}

using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Events;
using Personalizer.Engine.Experiments;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Experiments;

public sealed record ExperimentRequest
{
    public string? Slot { get; init; }
    public string? Description { get; init; }
    /// <summary>A condition; empty or absent: everyone.</summary>
    public string? Audience { get; init; }
    public List<ArmRequest?>? Arms { get; init; }
    public double? ControlPercent { get; init; }
    /// <summary><c>default</c> (the slot's default) or <c>none</c> (no personalization).</summary>
    public string? Control { get; init; }
    public string? Goal { get; init; }
    public double? AttributionHours { get; init; }
    /// <summary><c>draft</c>, <c>running</c> or <c>stopped</c>.</summary>
    public string? Status { get; init; }
    /// <summary><c>fixed</c> or <c>thompson</c>.</summary>
    public string? Allocation { get; init; }
}

/// <param name="Variant">Content slots: the variant the arm shows.</param>
/// <param name="Strategy">Recommendation slots: the strategy the arm fills the slot with.</param>
public sealed record ArmRequest(string? Id, double? Weight, string? Variant, string? Strategy);

public sealed record ArmResponse(string Id, double Weight, string? Variant, string? Strategy);

public sealed record ExperimentResponse(
    string Id, string Slot, string? Description, string? Audience, ArmResponse[] Arms, double ControlPercent, string Control,
    string Goal, double AttributionHours, string Status, string Allocation, long StartedAt);

public sealed record ExperimentChangeResponse(int Version, ExperimentResponse Experiment);

internal static class ExperimentsMapping
{
    public static ExperimentResponse ToResponse(this ExperimentDefinition e) => new(
        e.Id, e.Slot, e.Description, e.Audience, [.. e.Arms.Select(a => new ArmResponse(a.Id, a.Weight, a.Variant, a.Strategy))], e.ControlPercent,
        e.Control == ControlKind.Default ? "default" : "none", e.Goal, e.AttributionHours,
        e.Status.ToString().ToLowerInvariant(), e.Allocation.ToString().ToLowerInvariant(), e.StartedAt);

    /// <summary>The request as a definition; what cannot be read is named in <paramref name="errors"/> (the Engine checks the rest).</summary>
    public static ExperimentDefinition ToDefinition(this ExperimentRequest r, string id, ValidationErrors errors)
    {
        var arms = new List<ExperimentArm>();
        for (var i = 0; i < (r.Arms?.Count ?? 0); i++)
        {
            if (r.Arms![i] is not { } arm)
            {
                errors.Add($"arms[{i}]", "must be an object");
                continue;
            }
            arms.Add(new ExperimentArm { Id = arm.Id ?? "", Weight = arm.Weight ?? 1, Variant = arm.Variant, Strategy = arm.Strategy });
        }
        var control = r.Control switch
        {
            null or "default" => ControlKind.Default,
            "none" => ControlKind.NoPersonalization,
            _ => Invalid(errors, "control", "must be 'default' or 'none'", ControlKind.Default),
        };
        var status = r.Status switch
        {
            null or "draft" => ExperimentStatus.Draft,
            "running" => ExperimentStatus.Running,
            "stopped" => ExperimentStatus.Stopped,
            _ => Invalid(errors, "status", "must be 'draft', 'running' or 'stopped'", ExperimentStatus.Draft),
        };
        var allocation = r.Allocation switch
        {
            null or "fixed" => ExperimentAllocation.Fixed,
            "thompson" => ExperimentAllocation.Thompson,
            _ => Invalid(errors, "allocation", "must be 'fixed' or 'thompson'", ExperimentAllocation.Fixed),
        };
        return new ExperimentDefinition
        {
            Id = id, Slot = r.Slot ?? "", Description = r.Description, Audience = string.IsNullOrWhiteSpace(r.Audience) ? null : r.Audience,
            Arms = [.. arms], ControlPercent = r.ControlPercent ?? 0, Control = control, Goal = r.Goal ?? EventTypes.Purchase,
            AttributionHours = r.AttributionHours ?? 168, Status = status, Allocation = allocation,
        };
    }

    private static T Invalid<T>(ValidationErrors errors, string path, string message, T fallback)
    {
        errors.Add(path, message);
        return fallback;
    }
}

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
    public const int MaxArms = 10;

    public static ExperimentResponse ToResponse(this ExperimentDefinition e) => new(
        e.Id, e.Slot, e.Description, e.Audience, [.. e.Arms.Select(a => new ArmResponse(a.Id, a.Weight, a.Variant, a.Strategy))], e.ControlPercent,
        e.Control == ControlKind.Default ? "default" : "none", e.Goal, e.AttributionHours,
        e.Status.ToString().ToLowerInvariant(), e.Allocation.ToString().ToLowerInvariant(), e.StartedAt);

    /// <summary>The definition, or null with the errors named by field.</summary>
    public static ExperimentDefinition? ToDefinition(this ExperimentRequest r, string id, SiteConfiguration current, ValidationErrors errors)
    {
        SlotDefinition? slot = null;
        if (errors.Id("slot", r.Slot) && !current.Slots.TryGetValue(r.Slot!, out slot))
        {
            errors.Add("slot", $"this site has no slot '{r.Slot}'");
        }
        errors.Text("description", r.Description, 1024);
        errors.Text("audience", r.Audience, 4096);
        var controlPercent = r.ControlPercent ?? 0;
        errors.Number("controlPercent", controlPercent, 0, 90);
        var arms = new List<ExperimentArm>();
        if (r.Arms is null || r.Arms.Count == 0)
        {
            errors.Add("arms", "at least one arm is required");
        }
        else if (r.Arms.Count > MaxArms)
        {
            errors.Add("arms", $"at most {MaxArms} arms");
        }
        else
        {
            for (var i = 0; i < r.Arms.Count; i++)
            {
                var arm = r.Arms[i];
                if (arm is null)
                {
                    errors.Add($"arms[{i}]", "must be an object");
                    continue;
                }
                if (errors.Id($"arms[{i}].id", arm.Id))
                {
                    if (arm.Id == ExperimentAssignment.Control)
                    {
                        errors.Add($"arms[{i}].id", "'control' is the control group's name; set controlPercent instead");
                    }
                    else if (arms.Any(a => a.Id == arm.Id))
                    {
                        errors.Add($"arms[{i}].id", $"'{arm.Id}' is used twice");
                    }
                }
                var weight = arm.Weight ?? 1;
                errors.Number($"arms[{i}].weight", weight, 0.0001, 1000);
                if (slot is { Kind: SlotKind.Content } && slot.FindVariant(arm.Variant) is null)
                {
                    errors.Add($"arms[{i}].variant", $"slot '{slot.Id}' has no variant '{arm.Variant}'");
                }
                if (slot is { Kind: SlotKind.Recommendations } && !RecommendationStrategies.All.Contains(arm.Strategy))
                {
                    errors.Add($"arms[{i}].strategy", $"must be one of {string.Join(", ", RecommendationStrategies.All)}");
                }
                arms.Add(new ExperimentArm { Id = arm.Id ?? "", Weight = weight, Variant = arm.Variant, Strategy = arm.Strategy });
            }
            if (arms.Count < 2 && controlPercent <= 0)
            {
                errors.Add("arms", "an experiment needs two arms, or one arm and a control group (controlPercent)");
            }
        }
        var control = r.Control switch
        {
            null or "default" => ControlKind.Default,
            "none" => ControlKind.NoPersonalization,
            _ => Invalid(errors, "control", "must be 'default' or 'none'", ControlKind.Default),
        };
        var goal = r.Goal ?? EventTypes.Purchase;
        if (!EventTypes.TryParse(goal, out _))
        {
            errors.Add("goal", $"must be an event type: {string.Join(", ", EventTypes.All)}");
        }
        var hours = r.AttributionHours ?? 168;
        errors.Number("attributionHours", hours, 0.01, 2160);
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
        if (!errors.IsEmpty)
        {
            return null;
        }
        return new ExperimentDefinition
        {
            Id = id, Slot = r.Slot!, Description = r.Description, Audience = string.IsNullOrWhiteSpace(r.Audience) ? null : r.Audience,
            Arms = [.. arms], ControlPercent = controlPercent, Control = control, Goal = goal, AttributionHours = hours,
            Status = status, Allocation = allocation,
        };
    }

    private static T Invalid<T>(ValidationErrors errors, string path, string message, T fallback)
    {
        errors.Add(path, message);
        return fallback;
    }
}

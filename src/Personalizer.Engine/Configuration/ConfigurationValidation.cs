using Personalizer.Engine.Events;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Configuration;

/// <summary>The rules an experiment and a trigger follow, whoever submits them (HTTP, CLI, tests).</summary>
public sealed partial class ConfigurationService
{
    public const int MaxArms = 10;
    public const double MaxWaitMinutes = 60 * 24 * 30;
    private const string ControlArm = "control";

    /// <summary>Checks an experiment against the site's current configuration (its slot and variants) and its audience condition.</summary>
    public void Validate(string site, ExperimentDefinition experiment, ValidationErrors errors)
    {
        var current = Current(site);
        SlotDefinition? slot = null;
        if (errors.Id("slot", experiment.Slot) && !current.Slots.TryGetValue(experiment.Slot, out slot))
        {
            errors.Add("slot", $"this site has no slot '{experiment.Slot}'");
        }
        errors.Text("description", experiment.Description, 1024);
        errors.Text("audience", experiment.Audience, 4096);
        if (experiment.Audience is { } audience && errors.IsEmpty && CompileCondition(site, audience) is { Ok: false } compiled)
        {
            var first = compiled.Errors[0];
            errors.Add("audience", $"line {first.Line}, column {first.Column}: {first.Message}");
        }
        errors.Number("controlPercent", experiment.ControlPercent, 0, 90);
        var arms = experiment.Arms;
        if (arms.Length == 0)
        {
            errors.Add("arms", "at least one arm is required");
        }
        else if (arms.Length > MaxArms)
        {
            errors.Add("arms", $"at most {MaxArms} arms");
        }
        else
        {
            for (var i = 0; i < arms.Length; i++)
            {
                var arm = arms[i];
                if (errors.Id($"arms[{i}].id", arm.Id))
                {
                    if (arm.Id == ControlArm)
                    {
                        errors.Add($"arms[{i}].id", "'control' is the control group's name; set controlPercent instead");
                    }
                    else if (Array.FindIndex(arms, a => a.Id == arm.Id) < i)
                    {
                        errors.Add($"arms[{i}].id", $"'{arm.Id}' is used twice");
                    }
                }
                errors.Number($"arms[{i}].weight", arm.Weight, 0.0001, 1000);
                if (slot is { Kind: SlotKind.Content } && slot.FindVariant(arm.Variant) is null)
                {
                    errors.Add($"arms[{i}].variant", $"slot '{slot.Id}' has no variant '{arm.Variant}'");
                }
                if (slot is { Kind: SlotKind.Recommendations } && !RecommendationStrategies.All.Contains(arm.Strategy))
                {
                    errors.Add($"arms[{i}].strategy", $"must be one of {string.Join(", ", RecommendationStrategies.All)}");
                }
            }
            if (arms.Length < 2 && experiment.ControlPercent <= 0)
            {
                errors.Add("arms", "an experiment needs two arms, or one arm and a control group (controlPercent)");
            }
        }
        if (!EventTypes.TryParse(experiment.Goal, out _))
        {
            errors.Add("goal", $"must be an event type: {string.Join(", ", EventTypes.All)}");
        }
        errors.Number("attributionHours", experiment.AttributionHours, 0.01, 2160);
    }

    /// <summary>Checks a trigger: its events, its condition against the site's segments, the wait, the webhook and the secret.</summary>
    public void Validate(string site, TriggerDefinition trigger, ValidationErrors errors)
    {
        if (!EventTypes.TryParse(trigger.Event, out _))
        {
            errors.Add("event", $"must be an event type: {string.Join(", ", EventTypes.All)}");
        }
        if (trigger.CancelOn is not null && !EventTypes.TryParse(trigger.CancelOn, out _))
        {
            errors.Add("cancelOn", $"must be an event type: {string.Join(", ", EventTypes.All)}");
        }
        errors.Text("description", trigger.Description, 1024);
        errors.Text("when", trigger.When, 4096);
        if (!string.IsNullOrWhiteSpace(trigger.When) && CompileCondition(site, trigger.When) is { Ok: false } compiled)
        {
            var first = compiled.Errors[0];
            errors.Add("when", $"line {first.Line}, column {first.Column}: {first.Message}");
        }
        errors.Number("waitMinutes", trigger.WaitMinutes, 0, MaxWaitMinutes);
        if (!Uri.TryCreate(trigger.Webhook, UriKind.Absolute, out var webhook) || (webhook.Scheme != Uri.UriSchemeHttps && webhook.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add("webhook", "must be an absolute http(s) URL");
        }
        if (trigger.Secret.Length == 0)
        {
            errors.Add("secret", "is required (16 to 256 characters): the receiver checks the signature with it");
        }
        else if (trigger.Secret.Length is < 16 or > 256)
        {
            errors.Add("secret", "must have 16 to 256 characters");
        }
    }
}

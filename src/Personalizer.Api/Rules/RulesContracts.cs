using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Rules;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Rules;

public sealed record RuleRequest
{
    public string? Slot { get; init; }
    public int? Priority { get; init; }
    public bool? Enabled { get; init; }
    public string? When { get; init; }
    public RuleActionRequest? Then { get; init; }
    public RuleScheduleRequest? Schedule { get; init; }
    public List<string>? Tags { get; init; }
    public string? Description { get; init; }
}

/// <summary>What a rule does; <c>Items</c> and <c>BoostItems</c> are item conditions (<c>item.*</c>, docs/conditions.md).</summary>
public sealed record RuleActionRequest(string? Variant, List<string>? IncludeCategories, List<string>? ExcludeCategories, List<string>? BoostCategories,
    string? Items = null, string? BoostItems = null);

public sealed record RuleScheduleRequest(string? From, string? Until, string? TimeZone);

public sealed record RuleResponse(
    string Id, string Slot, int Priority, bool Enabled, string When, RuleActionResponse Then, RuleScheduleRequest? Schedule, string[] Tags, string? Description);

public sealed record RuleActionResponse(string? Variant, string[]? IncludeCategories, string[]? ExcludeCategories, string[]? BoostCategories, string? Items, string? BoostItems);

public sealed record RuleChangeResponse(int Version, RuleResponse Rule);

public sealed record SegmentRequest(string? Description, string? When);

public sealed record SegmentResponse(string Id, string? Description, string When);

public sealed record SegmentChangeResponse(int Version, SegmentResponse Segment);

public sealed record ValidateRequest(string? When);

public sealed record ValidateResponse(bool Valid, List<string> Segments);

public sealed record ConditionErrorResponse(int Line, int Column, string Message);

public sealed record FieldResponse(string Path, string Type, string Description);

internal static class RulesMapping
{
    public const int MaxConditionLength = Parser.MaxLength;

    public static RuleDefinition ToRule(this RuleRequest r, string id) => new()
    {
        Id = id,
        Slot = r.Slot!,
        Priority = r.Priority ?? 0,
        Enabled = r.Enabled ?? true,
        When = r.When!,
        Then = new RuleAction
        {
            Variant = r.Then?.Variant,
            IncludeCategories = r.Then?.IncludeCategories?.ToArray() ?? [],
            ExcludeCategories = r.Then?.ExcludeCategories?.ToArray() ?? [],
            BoostCategories = r.Then?.BoostCategories?.ToArray() ?? [],
            Items = string.IsNullOrWhiteSpace(r.Then?.Items) ? null : r.Then.Items,
            BoostItems = string.IsNullOrWhiteSpace(r.Then?.BoostItems) ? null : r.Then.BoostItems,
        },
        Schedule = r.Schedule is null ? null : new RuleSchedule { From = r.Schedule.From, Until = r.Schedule.Until, TimeZone = r.Schedule.TimeZone },
        Tags = r.Tags?.ToArray() ?? [],
        Description = r.Description,
    };

    public static RuleResponse ToResponse(this RuleDefinition r) => new(
        r.Id, r.Slot, r.Priority, r.Enabled, r.When,
        new RuleActionResponse(r.Then.Variant, Empty(r.Then.IncludeCategories), Empty(r.Then.ExcludeCategories), Empty(r.Then.BoostCategories), r.Then.Items, r.Then.BoostItems),
        r.Schedule is null ? null : new RuleScheduleRequest(r.Schedule.From, r.Schedule.Until, r.Schedule.TimeZone),
        r.Tags, r.Description);

    public static SegmentResponse ToResponse(this SegmentDefinition s) => new(s.Id, s.Description, s.When);

    public static void RequireCondition(string? when, ValidationErrors errors)
    {
        if (string.IsNullOrWhiteSpace(when))
        {
            errors.Add("when", "is required: a condition such as profile.orders >= 3");
        }
    }

    private static string[]? Empty(string[] values) => values.Length == 0 ? null : values;
}

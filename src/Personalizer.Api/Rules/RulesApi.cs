using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Rules;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Rules;

public static class RulesApi
{
    public static IEndpointRouteBuilder MapRulesApi(this IEndpointRouteBuilder app)
    {
        var rules = app.MapGroup("/v1/rules").WithTags("Rules").RequireAuthorization(Policies.Admin);
        rules.MapGet("/", ListRules).Produces<List<RuleResponse>>().WithSummary("Every rule, in the order they run per slot.");
        rules.MapPost("/validate", Validate).Accepts<ValidateRequest>("application/json").Produces<ValidateResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(16 * 1024))
            .WithSummary("Compile a condition; 422 with the positions of its errors.");
        rules.MapGet("/fields", ListFields).Produces<List<FieldResponse>>()
            .WithSummary("Every field a condition can read, with its type (also context.utm.NAME and context.NAME for page attributes).");
        rules.MapGet("/{ruleId}", GetRule).Produces<RuleResponse>().WithSummary("One rule.");
        rules.MapPut("/{ruleId}", PutRule).Accepts<RuleRequest>("application/json").Produces<RuleChangeResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("Create or replace a rule; makes a new configuration version.");
        rules.MapDelete("/{ruleId}", DeleteRule).WithSummary("Delete a rule (a new configuration version).");

        var segments = app.MapGroup("/v1/segments").WithTags("Segments").RequireAuthorization(Policies.Admin);
        segments.MapGet("/", ListSegments).Produces<List<SegmentResponse>>().WithSummary("The site's segments.");
        segments.MapGet("/{segmentId}", GetSegment).Produces<SegmentResponse>().WithSummary("One segment.");
        segments.MapPut("/{segmentId}", PutSegment).WithSummary("Create or replace a segment (a new configuration version).").Accepts<SegmentRequest>("application/json").Produces<SegmentChangeResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024));
        segments.MapDelete("/{segmentId}", DeleteSegment).WithSummary("Delete a segment that no rule uses (409 otherwise).");
        return app;
    }

    private static Ok<List<RuleResponse>> ListRules(HttpContext http, ConfigurationService configuration, string? slot)
    {
        var current = configuration.Current(http.Caller().Site);
        var list = current.RulesBySlot
            .Where(kv => slot is null || kv.Key == slot)
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .SelectMany(kv => kv.Value.Select(r => r.Definition.ToResponse()))
            .ToList();
        return TypedResults.Ok(list);
    }

    private static Ok<List<FieldResponse>> ListFields() =>
        TypedResults.Ok(Fields.All.Values.OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => new FieldResponse(f.Path, f.Type switch
            {
                ConditionType.Bool => "boolean",
                ConditionType.Number => "number",
                ConditionType.Text => "string",
                ConditionType.StringList => "list of strings",
                ConditionType.NumberList => "list of numbers",
                _ => "duration",
            }, f.Description)).ToList());

    private static async Task<IResult> Validate(HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.ValidateRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        RulesMapping.RequireCondition(body!.When, errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var result = configuration.CompileCondition(http.Caller().Site, body.When!);
        return result.Condition is { } compiled
            ? TypedResults.Ok(new ValidateResponse(true, [.. compiled.SegmentsUsed.Distinct()]))
            : ConditionProblem("when", result.Errors);
    }

    private static IResult GetRule(string ruleId, HttpContext http, ConfigurationService configuration)
    {
        if (JsonBody.InvalidId("ruleId", ruleId) is { } invalid)
        {
            return invalid;
        }
        return configuration.Current(http.Caller().Site).Rules.TryGetValue(ruleId, out var rule)
            ? TypedResults.Ok(rule.ToResponse())
            : NotFound("rule", ruleId);
    }

    private static async Task<IResult> PutRule(string ruleId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("ruleId", ruleId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.RuleRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var site = http.Caller().Site;
        var errors = new ValidationErrors();
        RulesMapping.RequireCondition(body!.When, errors);
        if (body.Slot is null)
        {
            errors.Add("slot", "is required");
        }
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var rule = body.ToRule(ruleId);
        ConfigurationService.Validate(rule, configuration.Current(site), errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var compiled = configuration.CompileCondition(site, rule.When);
        if (!compiled.Ok)
        {
            return ConditionProblem("when", compiled.Errors);
        }
        foreach (var (field, text) in new[] { ("then.items", rule.Then.Items), ("then.boostItems", rule.Then.BoostItems) })
        {
            if (text is not null && configuration.CompileCondition(site, text, items: true) is { Ok: false } itemCompiled)
            {
                return ConditionProblem(field, itemCompiled.Errors);
            }
        }
        var result = await configuration.PutRuleAsync(site, rule, http.Actor(), ct);
        return TypedResults.Ok(new RuleChangeResponse(result.Version, rule.ToResponse()));
    }

    private static async Task<IResult> DeleteRule(string ruleId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("ruleId", ruleId) is { } invalid)
        {
            return invalid;
        }
        var result = await configuration.DeleteRuleAsync(http.Caller().Site, ruleId, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.NotFound ? NotFound("rule", ruleId) : TypedResults.NoContent();
    }

    private static Ok<List<SegmentResponse>> ListSegments(HttpContext http, ConfigurationService configuration) =>
        TypedResults.Ok(configuration.Current(http.Caller().Site).Segments.Values.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => s.ToResponse()).ToList());

    private static IResult GetSegment(string segmentId, HttpContext http, ConfigurationService configuration)
    {
        if (JsonBody.InvalidId("segmentId", segmentId) is { } invalid)
        {
            return invalid;
        }
        return configuration.Current(http.Caller().Site).Segments.TryGetValue(segmentId, out var segment)
            ? TypedResults.Ok(segment.ToResponse())
            : NotFound("segment", segmentId);
    }

    private static async Task<IResult> PutSegment(string segmentId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("segmentId", segmentId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.SegmentRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        RulesMapping.RequireCondition(body!.When, errors);
        errors.Text("description", body.Description, 1024);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var segment = new SegmentDefinition { Id = segmentId, Description = body.Description, When = body.When! };
        var site = http.Caller().Site;
        var conditionErrors = configuration.CompileSegment(site, segment);
        if (conditionErrors.Count > 0)
        {
            return ConditionProblem("when", conditionErrors);
        }
        var result = await configuration.PutSegmentAsync(site, segment, http.Actor(), ct);
        return TypedResults.Ok(new SegmentChangeResponse(result.Version, segment.ToResponse()));
    }

    private static async Task<IResult> DeleteSegment(string segmentId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("segmentId", segmentId) is { } invalid)
        {
            return invalid;
        }
        var site = http.Caller().Site;
        var users = configuration.SegmentUsers(site, segmentId);
        if (users.Count > 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The segment is in use",
                detail: $"Segment '{segmentId}' is used by {string.Join(", ", users)}; change those first.");
        }
        var result = await configuration.DeleteSegmentAsync(site, segmentId, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.NotFound ? NotFound("segment", segmentId) : TypedResults.NoContent();
    }

    /// <summary>422: the request is well-formed but its condition does not compile; each error with line and column.</summary>
    private static ProblemHttpResult ConditionProblem(string field, IReadOnlyList<ConditionError> errors)
    {
        var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [.. errors.Select(e => e.ToString())] })
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "The condition does not compile",
            Detail = errors[0].ToString(),
        };
        problem.Extensions["conditionErrors"] = errors.Select(e => new ConditionErrorResponse(e.Line, e.Column, e.Message)).ToList();
        return TypedResults.Problem(problem);
    }

    private static ProblemHttpResult NotFound(string kind, string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"No such {kind}", detail: $"This site has no {kind} '{id}'.");
}

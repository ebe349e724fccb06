using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Experiments;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Experiments;

public static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/experiments").WithTags("Experiments").RequireAuthorization(Policies.Admin);
        group.MapGet("/", List).Produces<List<ExperimentResponse>>().WithSummary("The site's experiments.");
        group.MapGet("/{experimentId}", Get).Produces<ExperimentResponse>().WithSummary("One experiment.");
        group.MapPut("/{experimentId}", Put).Accepts<ExperimentRequest>("application/json").Produces<ExperimentChangeResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("Create or replace an experiment; makes a new configuration version.");
        group.MapDelete("/{experimentId}", Delete).WithSummary("Delete an experiment (a new configuration version).");
        group.MapGet("/{experimentId}/results", Results).Produces<ExperimentReport>()
            .WithSummary("Per arm: exposures, conversions, rate with its 95% interval, revenue per visitor, uplift against the baseline with interval and p-value, probability of being best; a sample-ratio check.");
        app.MapGet("/v1/reports/slots", SlotsReport).WithTags("Reports").RequireAuthorization(Policies.Admin).Produces<SlotReportResult>()
            .WithSummary("Impressions, clicks, CTR, conversions and revenue per slot, per variant and source, over the whole UTC days from 'from' to 'to' (unix ms or ISO 8601; default: the last 7 days), read from counters; granularity=day adds a series per day; by=stage or by=segment adds the rows per lifecycle stage or RFM segment of the visitors when shown.");
        return app;
    }

    private static async Task<IResult> SlotsReport(HttpContext http, SlotReport report, TimeProvider time, string? from, string? to, string? granularity, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "by")] string? breakdown = null)
    {
        var errors = new ValidationErrors();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var end = Instant(to, "to", now, errors);
        // Default: the last seven whole UTC days, today included.
        var start = Instant(from, "from", (SlotReport.Days(end, end).FirstDay - 6) * SlotReport.DayMs, errors);
        if (errors.IsEmpty && start >= end)
        {
            errors.Add("to", "must lie after from");
        }
        else if (errors.IsEmpty && SlotReport.Days(start, end) is var (first, last) && last - first + 1 > SlotReport.MaxDays)
        {
            errors.Add("from", $"the range may cover at most {SlotReport.MaxDays} days");
        }
        var by = granularity switch
        {
            null or "" or "total" => ReportGranularity.Total,
            "day" => ReportGranularity.Day,
            _ => (ReportGranularity?)null,
        };
        if (by is null)
        {
            errors.Add("granularity", "must be 'total' or 'day'");
        }
        var dimension = breakdown switch
        {
            null or "" => null,
            "stage" => Personalizer.Engine.Counters.CounterKeys.ByStage,
            "segment" => Personalizer.Engine.Counters.CounterKeys.BySegment,
            _ => "?",
        };
        if (dimension == "?")
        {
            errors.Add("by", "must be 'stage' (lifecycle stage) or 'segment' (RFM segment)");
        }
        return errors.IsEmpty ? TypedResults.Ok(await report.ComputeAsync(http.Caller().Site, start, end, by!.Value, dimension, ct)) : JsonBody.Invalid(errors);
    }

    private static long Instant(string? text, string name, long fallback, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }
        if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
        {
            return at.ToUnixTimeMilliseconds();
        }
        errors.Add(name, "must be unix milliseconds or an ISO 8601 date-time such as 2026-11-23T00:00Z");
        return fallback;
    }

    private static Ok<List<ExperimentResponse>> List(HttpContext http, ConfigurationService configuration) =>
        TypedResults.Ok(configuration.Current(http.Caller().Site).Experiments.Values.OrderBy(e => e.Id, StringComparer.Ordinal).Select(e => e.ToResponse()).ToList());

    private static IResult Get(string experimentId, HttpContext http, ConfigurationService configuration)
    {
        if (JsonBody.InvalidId("experimentId", experimentId) is { } invalid)
        {
            return invalid;
        }
        return configuration.Current(http.Caller().Site).Experiments.TryGetValue(experimentId, out var e) ? TypedResults.Ok(e.ToResponse()) : NotFound(experimentId);
    }

    private static async Task<IResult> Put(string experimentId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("experimentId", experimentId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.ExperimentRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var site = http.Caller().Site;
        var errors = new ValidationErrors();
        var experiment = body!.ToDefinition(experimentId, errors);
        configuration.Validate(site, experiment, errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var result = await configuration.PutExperimentAsync(site, experiment, http.Actor(), ct);
        var stored = configuration.Current(site).Experiments.GetValueOrDefault(experimentId) ?? experiment;
        return TypedResults.Ok(new ExperimentChangeResponse(result.Version, stored.ToResponse()));
    }

    private static async Task<IResult> Delete(string experimentId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("experimentId", experimentId) is { } invalid)
        {
            return invalid;
        }
        var result = await configuration.DeleteExperimentAsync(http.Caller().Site, experimentId, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.NotFound ? NotFound(experimentId) : TypedResults.NoContent();
    }

    private static async Task<IResult> Results(string experimentId, HttpContext http, ConfigurationService configuration, ExperimentResults results, TimeProvider time, CancellationToken ct)
    {
        if (JsonBody.InvalidId("experimentId", experimentId) is { } invalid)
        {
            return invalid;
        }
        var site = http.Caller().Site;
        if (!configuration.Current(site).Experiments.TryGetValue(experimentId, out var experiment))
        {
            return NotFound(experimentId);
        }
        return TypedResults.Ok(await results.ComputeAsync(site, experiment, time.GetUtcNow().ToUnixTimeMilliseconds(), ct));
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such experiment", detail: $"This site has no experiment '{id}'.");
}

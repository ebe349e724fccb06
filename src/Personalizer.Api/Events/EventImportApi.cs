using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Events;

/// <param name="Lines">Event lines read (blank lines aside).</param>
/// <param name="Milliseconds">Time from the first byte read to the last event applied.</param>
public sealed record EventImportResponse(int Lines, int Accepted, int Duplicates, int Queued, int Dropped, long Milliseconds);

/// <summary>
/// <c>POST /v1/events/import</c>: a site's history as NDJSON (one event per line, the shape of
/// <c>POST /v1/events</c>), any past timestamp, no batch limit. The body is streamed and every line
/// validated first: one bad line refuses the whole import (errors name <c>lines[N].field</c>, N from 1), so
/// an import is applied whole or not at all. Then the events are applied in time order.
/// </summary>
public static class EventImportApi
{
    public const long MaxBodyBytes = 4L << 30;
    private const int MaxLineBytes = 64 << 10;

    public static RouteGroupBuilder MapEventImportApi(this RouteGroupBuilder events)
    {
        events.MapPost("/import", ImportAsync)
            .RequireAuthorization(Policies.Admin)
            .Accepts<EventRequest>("application/x-ndjson", "application/jsonl", "application/json")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<EventImportResponse>()
            .ProducesValidationProblem()
            .WithSummary("Import a history as NDJSON (one event per line, past timestamps allowed); applied in time order, idempotent by event id.");
        return events;
    }

    private static async Task<IResult> ImportAsync(HttpContext http, EventService service, PersonalizerOptions options, TimeProvider time, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // History has no age limit; the future still has the clock-skew limit.
        var limits = new LimitOptions
        {
            MaxEventsPerBatch = options.Limits.MaxEventsPerBatch,
            MaxSlotsPerDecide = options.Limits.MaxSlotsPerDecide,
            MaxItemsPerUpsert = options.Limits.MaxItemsPerUpsert,
            MaxEventAgeDays = 36_500,
            MaxClockSkewSeconds = options.Limits.MaxClockSkewSeconds,
        };
        var errors = new ValidationErrors();
        var events = new List<TrackedEvent>();
        var lines = 0;
        var unreadable = await LineBody.ReadAsync(http.Request, errors, (line, path) =>
        {
            lines++;
            var before = errors.Count;
            try
            {
                var request = JsonSerializer.Deserialize(line, ApiJsonContext.Default.EventRequest);
                if (EventsMapping.ToEvent(request, path, now, limits, errors) is { } e && errors.Count == before)
                {
                    events.Add(e);
                }
            }
            catch (JsonException ex)
            {
                errors.Add(path, $"is not a JSON event: {ex.Message}");
            }
            return true;
        }, ct, MaxLineBytes);
        if (unreadable is not null)
        {
            return unreadable;
        }
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        if (events.Count == 0)
        {
            return JsonBody.Invalid("lines", "the body holds no event; send one JSON event per line");
        }
        var result = await service.ImportAsync(http.Caller().Site, events, ct: ct);
        return TypedResults.Ok(new EventImportResponse(lines, result.Accepted, result.Duplicates, result.Queued, result.Dropped, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }
}

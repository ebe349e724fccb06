using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Events;

public static class EventsApi
{
    public const int MaxBodyBytes = 1 << 20;

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/events").WithTags("Events").RequireAuthorization(Policies.Site);
        api.MapPost("/", PostEvents)
            // text/plain too: what navigator.sendBeacon sends cross-origin without a preflight (the key then travels as ?key=).
            .Accepts<EventBatchRequest>("application/json", "text/plain")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<EventBatchResponse>(StatusCodes.Status202Accepted)
            .WithSummary("Send a batch of events; answered 202 once they are durable.");
        api.MapEventImportApi();
        return api;
    }

    private static async Task<IResult> PostEvents(HttpContext http, EventService events, PersonalizerOptions options, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.EventBatchRequest, ct, allowTextPlain: true);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var batch = body!.ToEvents(time.GetUtcNow().ToUnixTimeMilliseconds(), options.Limits, errors);
        if (batch is null)
        {
            return JsonBody.Invalid(errors);
        }
        var result = await events.IngestAsync(http.Caller().Site, batch, ct);
        return TypedResults.Accepted((string?)null, new EventBatchResponse(result.Accepted, result.Duplicates, result.Queued, result.Dropped));
    }
}

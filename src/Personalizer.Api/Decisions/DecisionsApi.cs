using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Validation;
using Personalizer.Engine.Strategies;

namespace Personalizer.Api.Decisions;

public static class DecisionsApi
{
    public static RouteGroupBuilder MapDecisionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/decide").WithTags("Decisions").RequireAuthorization(Policies.Site);
        api.MapPost("/", Decide)
            .Accepts<DecideRequest>("application/json")
            .Produces<DecideResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("Decide what each slot of a page shows for a visitor; explain=true adds the trace.");
        api.MapPost("/preview", Preview)
            .RequireAuthorization(Policies.Admin)
            .Accepts<PreviewRequest>("application/json")
            .Produces<DecideResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("What a stored visitor, or a profile typed in, would see: always explained, never recorded (no impression).");
        return api;
    }

    private static async Task<IResult> Preview(HttpContext http, DecisionEngine engine, PersonalizerOptions options, TimeProvider time, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.PreviewRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var visitorId = body!.VisitorId ?? "preview";
        var request = new DecideRequest(visitorId, body.Context, body.Slots).ToRequest(explain: true, options.Limits, errors);
        var profile = body.Profile?.ToProfile(visitorId, time.GetUtcNow().ToUnixTimeMilliseconds(), errors);
        if (request is null || !errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var decision = await engine.DecideAsync(http.Caller().Site, new DecisionRequest
        {
            VisitorId = request.VisitorId,
            Context = request.Context,
            Slots = request.Slots,
            Explain = true,
            Profile = profile,
            Preview = true,
        }, ct);
        return TypedResults.Ok(decision.ToResponse());
    }

    private static async Task<IResult> Decide(HttpContext http, DecisionEngine engine, ConfigurationStore configuration, PersonalizerOptions options, bool? explain, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.DecideRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var request = body!.ToRequest(explain ?? false, options.Limits, errors);
        if (request is null)
        {
            return JsonBody.Invalid(errors);
        }
        var site = http.Caller().Site;
        if (request.SlotOptions is { } asked)
        {
            var slots = configuration.Current(site).Slots;
            foreach (var slotId in asked.Keys)
            {
                if (slots.TryGetValue(slotId, out var slot) && slot.Kind == SlotKind.Content)
                {
                    errors.Add($"filters.{slotId}", $"'{slotId}' is a content slot; filters apply to recommendation slots");
                }
            }
            if (!errors.IsEmpty)
            {
                return JsonBody.Invalid(errors);
            }
        }
        var decision = await engine.DecideAsync(site, request, ct);
        return new DecisionWriter(decision);
    }
}

using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Events;
using Personalizer.Engine.Triggers;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Triggers;

public sealed record TriggerRequest(string? Description, string? Event, string? When, double? WaitMinutes, string? CancelOn, string? Webhook, string? Secret, bool? Enabled);

/// <param name="Waiting">Messages of this trigger waiting for their time or for a retry.</param>
public sealed record TriggerResponse(string Id, string? Description, string Event, string? When, double WaitMinutes, string? CancelOn, string Webhook, bool Enabled, bool SecretSet, int Waiting);

public sealed record TriggerChangeResponse(int Version, TriggerResponse Trigger);

/// <param name="Url">Where to send the test message (http or https); the trigger's webhook when left out.</param>
public sealed record TriggerTestRequest(string? Url);

public static class TriggersApi
{

    public static IEndpointRouteBuilder MapTriggersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/triggers").WithTags("Triggers").RequireAuthorization(Policies.Admin);
        group.MapGet("/", List).Produces<List<TriggerResponse>>().WithSummary("The site's triggered messages.");
        group.MapGet("/{triggerId}", Get).Produces<TriggerResponse>().WithSummary("One triggered message.");
        group.MapPut("/{triggerId}", Put).Accepts<TriggerRequest>("application/json").Produces<TriggerChangeResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(16 * 1024))
            .WithSummary("Create or replace a triggered message (cart or browse abandonment, purchase programmes); the secret may be left out to keep the current one.");
        group.MapDelete("/{triggerId}", Delete).WithSummary("Delete a triggered message (a new configuration version).");
        group.MapPost("/{triggerId}/test", TestAsync).Accepts<TriggerTestRequest>("application/json").Produces<DeliveryAttempt>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).WithMetadata(new RequestSizeLimitAttribute(4 * 1024))
            .WithSummary("Send one signed test message of this trigger now, to the given URL or its webhook, and answer with what the receiver said.");
        group.MapGet("/deliveries", Deliveries).Produces<IReadOnlyList<DeliveryAttempt>>()
            .WithSummary("The latest delivery attempts (at most 200, newest first): delivered, retrying with the next attempt's time, failed tests; ?trigger= for one trigger.");
        return app;
    }

    private static Ok<IReadOnlyList<DeliveryAttempt>> Deliveries(HttpContext http, TriggerDeliveries deliveries, string? trigger = null) =>
        TypedResults.Ok(deliveries.Latest(http.Caller().Site, string.IsNullOrEmpty(trigger) ? null : trigger));

    private static async Task<IResult> TestAsync(string triggerId, HttpContext http, ConfigurationService configuration, TriggerDispatcher dispatcher, CancellationToken ct)
    {
        if (JsonBody.InvalidId("triggerId", triggerId) is { } invalid)
        {
            return invalid;
        }
        TriggerTestRequest? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var (read, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.TriggerTestRequest, ct);
            if (problem is not null)
            {
                return problem;
            }
            body = read;
        }
        var site = http.Caller().Site;
        if (!configuration.Current(site).Triggers.TryGetValue(triggerId, out var trigger))
        {
            return NotFound(triggerId);
        }
        Uri? url = null;
        if (body?.Url is { } text && (!Uri.TryCreate(text, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https")))
        {
            return JsonBody.Invalid("url", "must be an absolute http or https URL");
        }
        return TypedResults.Ok(await dispatcher.TestAsync(site, trigger, url, ct));
    }

    private static TriggerResponse ToResponse(TriggerDefinition t, TriggerScheduler scheduler, string site) =>
        t.ToResponse(scheduler.Pending.Count(m => m.Site == site && m.Trigger == t.Id));

    /// <summary>The trigger as the API shows it: the secret only as <c>secretSet</c>.</summary>
    internal static TriggerResponse ToResponse(this TriggerDefinition t, int waiting) => new(
        t.Id, t.Description, t.Event, t.When, t.WaitMinutes, t.CancelOn, t.Webhook, t.Enabled, t.Secret.Length > 0, waiting);

    private static Ok<List<TriggerResponse>> List(HttpContext http, ConfigurationService configuration, TriggerScheduler scheduler)
    {
        var site = http.Caller().Site;
        return TypedResults.Ok(configuration.Current(site).Triggers.Values.OrderBy(t => t.Id, StringComparer.Ordinal).Select(t => ToResponse(t, scheduler, site)).ToList());
    }

    private static IResult Get(string triggerId, HttpContext http, ConfigurationService configuration, TriggerScheduler scheduler)
    {
        if (JsonBody.InvalidId("triggerId", triggerId) is { } invalid)
        {
            return invalid;
        }
        var site = http.Caller().Site;
        return configuration.Current(site).Triggers.TryGetValue(triggerId, out var t) ? TypedResults.Ok(ToResponse(t, scheduler, site)) : NotFound(triggerId);
    }

    private static async Task<IResult> Put(string triggerId, HttpContext http, ConfigurationService configuration, TriggerScheduler scheduler, CancellationToken ct)
    {
        if (JsonBody.InvalidId("triggerId", triggerId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.TriggerRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var site = http.Caller().Site;
        var existing = configuration.Current(site).Triggers.GetValueOrDefault(triggerId);
        var trigger = new TriggerDefinition
        {
            Id = triggerId,
            Description = body!.Description,
            Event = body.Event ?? "",
            When = string.IsNullOrWhiteSpace(body.When) ? null : body.When,
            WaitMinutes = body.WaitMinutes ?? 0,
            CancelOn = body.CancelOn,
            Webhook = body.Webhook ?? "",
            Secret = body.Secret ?? existing?.Secret ?? "", // a change that leaves the secret out keeps it
            Enabled = body.Enabled ?? true,
        };
        var errors = new ValidationErrors();
        configuration.Validate(site, trigger, errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var result = await configuration.PutTriggerAsync(site, trigger, http.Actor(), ct);
        return TypedResults.Ok(new TriggerChangeResponse(result.Version, ToResponse(trigger, scheduler, site)));
    }

    private static async Task<IResult> Delete(string triggerId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("triggerId", triggerId) is { } invalid)
        {
            return invalid;
        }
        var result = await configuration.DeleteTriggerAsync(http.Caller().Site, triggerId, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.NotFound ? NotFound(triggerId) : TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such trigger", detail: $"This site has no trigger '{id}'.");
}

using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Slots;

public static class SlotsApi
{
    public static IEndpointRouteBuilder MapSlotsApi(this IEndpointRouteBuilder app)
    {
        var slots = app.MapGroup("/v1/slots").WithTags("Slots").RequireAuthorization(Policies.Admin);
        slots.MapGet("/", ListSlots).Produces<List<SlotResponse>>().WithSummary("The site's slots.");
        slots.MapGet("/{slotId}", GetSlot).Produces<SlotResponse>().WithSummary("One slot with its variants.");
        slots.MapPut("/{slotId}", PutSlot).Accepts<SlotRequest>("application/json").Produces<SlotChangeResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(1 << 20))
            .WithSummary("Create or replace a slot; makes a new configuration version.");
        slots.MapDelete("/{slotId}", DeleteSlot).WithSummary("Delete a slot; makes a new configuration version.");

        var config = app.MapGroup("/v1/config").WithTags("Configuration").RequireAuthorization(Policies.Admin);
        config.MapGet("/history", History).Produces<List<ConfigVersionResponse>>().WithSummary("Every configuration version: who, when, what changed.");
        config.MapGet("/versions/{version:int}", Version).Produces<ConfigVersionContent>()
            .WithSummary("Everything one configuration version holds (trigger secrets left out), for reading and comparing versions.");
        config.MapPost("/rollback/{version:int}", Rollback).Produces<ConfigVersionResponse>()
            .WithSummary("Make a new version whose content equals an earlier one.");
        return app;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Ok<List<SlotResponse>> ListSlots(HttpContext http, ConfigurationService configuration) =>
        TypedResults.Ok(configuration.Current(http.Caller().Site).Slots.Values.OrderBy(s => s.Id, StringComparer.Ordinal).Select(s => s.ToResponse()).ToList());

    private static IResult GetSlot(string slotId, HttpContext http, ConfigurationService configuration)
    {
        if (JsonBody.InvalidId("slotId", slotId) is { } invalid)
        {
            return invalid;
        }
        return configuration.Current(http.Caller().Site).Slots.TryGetValue(slotId, out var slot)
            ? TypedResults.Ok(slot.ToResponse())
            : NotFound(slotId);
    }

    private static async Task<IResult> PutSlot(string slotId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("slotId", slotId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.SlotRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var slot = body!.ToSlot(slotId, errors);
        if (slot is null)
        {
            return JsonBody.Invalid(errors);
        }
        var result = await configuration.PutSlotAsync(http.Caller().Site, slot, http.Actor(), ct);
        return TypedResults.Ok(new SlotChangeResponse(result.Version, slot.ToResponse()));
    }

    private static async Task<IResult> DeleteSlot(string slotId, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        if (JsonBody.InvalidId("slotId", slotId) is { } invalid)
        {
            return invalid;
        }
        var result = await configuration.DeleteSlotAsync(http.Caller().Site, slotId, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.NotFound ? NotFound(slotId) : TypedResults.NoContent();
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Ok<List<ConfigVersionResponse>> History(HttpContext http, ConfigurationService configuration) =>
        TypedResults.Ok(configuration.History(http.Caller().Site).Reverse().Select(c => c.ToResponse()).ToList());

    private static async Task<IResult> Rollback(int version, HttpContext http, ConfigurationService configuration, CancellationToken ct)
    {
        var site = http.Caller().Site;
        var result = await configuration.RollbackAsync(site, version, http.Actor(), ct);
        return result.Status == ConfigChangeStatus.UnknownVersion
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such version", detail: $"This site has no configuration version {version}.")
            : TypedResults.Ok(configuration.Current(site).ToResponse());
    }

    private static IResult Version(int version, HttpContext http, ConfigurationService configuration)
    {
        var found = configuration.History(http.Caller().Site).FirstOrDefault(v => v.Version == version);
        return found is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such version", detail: $"This site has no configuration version {version}.")
            : TypedResults.Ok(found.ToContent());
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string slotId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such slot", detail: $"This site has no slot '{slotId}'.");
}

using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Profiles;

public static class ProfilesApi
{
    public static IEndpointRouteBuilder MapProfilesApi(this IEndpointRouteBuilder app)
    {
        var profiles = app.MapGroup("/v1/profiles").WithTags("Profiles").RequireAuthorization(Policies.Admin);
        profiles.MapGet("/{visitorId}", GetProfile).Produces<ProfileResponse>().WithSummary("The single customer view of a visitor.");
        profiles.MapGet("/{visitorId}/export", ExportProfile).Produces<ProfileExport>().WithSummary("Everything held about a visitor, as a download (portability).");
        profiles.MapDelete("/{visitorId}", EraseProfile).WithSummary("Erase a visitor (and the profiles merged with them); durable before the answer.");

        var visitors = app.MapGroup("/v1/visitors").WithTags("Preferences").RequireAuthorization(Policies.Site);
        visitors.MapGet("/{visitorId}/preferences", GetPreferences).Produces<PreferencesResponse>().WithSummary("A visitor's preferences: interests, exclusions, personalization and tracking consent.");
        visitors.MapPut("/{visitorId}/preferences", PutPreferences).Accepts<PreferencesRequest>("application/json").Produces<PreferencesResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(16 * 1024))
            .WithSummary("The visitor's own choices: interests, excluded categories, personalization on/off, tracking consent.");
        return app;
    }

    private static async Task<IResult> GetProfile(string visitorId, HttpContext http, ProfileService profiles, PersonalizerOptions options, CustomerModels customers, TimeProvider time, CancellationToken ct)
    {
        if (JsonBody.InvalidId("visitorId", visitorId) is { } invalid)
        {
            return invalid;
        }
        var site = http.Caller().Site;
        var profile = await profiles.GetAsync(site, visitorId, ct);
        return profile is null
            ? NotFound(visitorId)
            : TypedResults.Ok(profile.ToResponse(time.GetUtcNow().ToUnixTimeMilliseconds(), options.Profiles.AffinityHalfLifeDays, customers.Current(site)));
    }

    private static async Task<IResult> ExportProfile(string visitorId, HttpContext http, ProfileService profiles, EventHistory history, PersonalizerOptions options, CustomerModels customers, TimeProvider time, CancellationToken ct)
    {
        if (JsonBody.InvalidId("visitorId", visitorId) is { } invalid)
        {
            return invalid;
        }
        var site = http.Caller().Site;
        var profile = await profiles.GetAsync(site, visitorId, ct);
        if (profile is null)
        {
            return NotFound(visitorId);
        }
        var now = time.GetUtcNow();
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"profile-{visitorId}.json\"";
        var (events, decisions) = await Task.Run(() => history.ReadVisitor(site, [profile.VisitorId, .. profile.MergedVisitorIds], ct), ct);
        return TypedResults.Ok(new ProfileExport(site, now, profile.ToResponse(now.ToUnixTimeMilliseconds(), options.Profiles.AffinityHalfLifeDays, customers.Current(site)),
            [.. events.Select(e => new ExportedEvent(e.EventId, EventTypes.Name(e.Type), e.VisitorId, DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.ItemId,
                e.Quantity == 0 ? null : e.Quantity, e.Price == 0 ? null : e.Price, e.OrderId, e.Lines?.Select(l => new ExportedLine(l.ItemId, l.Quantity, l.Price)).ToList(),
                e.Revenue == 0 ? null : e.Revenue, e.Currency, e.CustomerId, e.Query, e.SlotId, e.Variant, e.Url))],
            [.. decisions.Select(d => new ExportedDecision(d.DecisionId, DateTimeOffset.FromUnixTimeMilliseconds(d.At), d.SlotId, d.Variant, d.Source, d.Items))]));
    }

    private static async Task<IResult> EraseProfile(string visitorId, HttpContext http, ProfileService profiles, CancellationToken ct)
    {
        if (JsonBody.InvalidId("visitorId", visitorId) is { } invalid)
        {
            return invalid;
        }
        return await profiles.EraseAsync(http.Caller().Site, visitorId, ct) ? TypedResults.NoContent() : NotFound(visitorId);
    }

    private static async Task<IResult> GetPreferences(string visitorId, HttpContext http, ProfileService profiles, CancellationToken ct)
    {
        if (JsonBody.InvalidId("visitorId", visitorId) is { } invalid)
        {
            return invalid;
        }
        var profile = await profiles.GetAsync(http.Caller().Site, visitorId, ct);
        return TypedResults.Ok((profile?.Preferences ?? new VisitorPreferences()).ToResponse());
    }

    private static async Task<IResult> PutPreferences(string visitorId, HttpContext http, ProfileService profiles, CancellationToken ct)
    {
        if (JsonBody.InvalidId("visitorId", visitorId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.PreferencesRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var site = http.Caller().Site;
        var current = (await profiles.GetAsync(site, visitorId, ct))?.Preferences ?? new VisitorPreferences();
        var errors = new ValidationErrors();
        var preferences = body!.ToPreferences(current, errors);
        if (preferences is null)
        {
            return JsonBody.Invalid(errors);
        }
        await profiles.SetPreferencesAsync(site, visitorId, preferences, ct);
        return TypedResults.Ok(preferences.ToResponse());
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string visitorId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such visitor", detail: $"No profile is stored for visitor '{visitorId}' in this site.");
}

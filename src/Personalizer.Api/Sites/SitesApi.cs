using Personalizer.Api.Http;
using Personalizer.Engine.Sites;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Sites;

public sealed record RateLimitRequest(int? PerSecond, int? Burst);

public sealed record SiteRequest(List<string?>? Origins, RateLimitRequest? RateLimit);

public sealed record KeyRequest(string? Role);

/// <param name="Key">The key itself: shown this once, stored only as a hash.</param>
public sealed record KeyCreatedResponse(string Site, string KeyId, string Role, string Key);

/// <summary>
/// <c>/v1/sites</c>, for an operator key (<c>Personalizer:OperatorKeys</c>): create and list sites, set
/// origins and limits, create, rotate and revoke keys. Every change is durable and reaches every node
/// through the change feed; a revoked key is refused everywhere within a second.
/// </summary>
public static class SitesApi
{
    public static RouteGroupBuilder MapSitesApi(this IEndpointRouteBuilder app)
    {
        var sites = app.MapGroup("/v1/sites").WithTags("Sites").RequireAuthorization(Policies.Operator);
        sites.MapGet("/", (ApiKeyRegistry keys) => TypedResults.Ok(keys.Sites())).Produces<IReadOnlyList<SiteView>>()
            .WithSummary("Every site, from settings and made at runtime, with its origins, limit and keys (fingerprints only).");
        sites.MapPut("/{siteId}", PutSiteAsync).Accepts<SiteRequest>("application/json").Produces<SiteView>()
            .WithSummary("Create a site, or set its storefront origins and rate limit.");
        sites.MapPost("/{siteId}/keys", CreateKeyAsync).Accepts<KeyRequest>("application/json").Produces<KeyCreatedResponse>(StatusCodes.Status201Created)
            .WithSummary("Make a key of the site (role site or admin); the key is in this answer only.");
        sites.MapPost("/{siteId}/keys/{keyId}/rotate", RotateKeyAsync).Produces<KeyCreatedResponse>()
            .WithSummary("Replace a key: a new one of the same role, and the old one revoked.");
        sites.MapDelete("/{siteId}/keys/{keyId}", RevokeKeyAsync)
            .WithSummary("Revoke a key: refused on every node within a second.");
        return sites;
    }

    private static async Task<IResult> PutSiteAsync(string siteId, HttpContext http, SiteService service, ApiKeyRegistry keys, CancellationToken ct)
    {
        if (JsonBody.InvalidId("siteId", siteId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.SiteRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var origins = new List<string>();
        for (var i = 0; i < (body!.Origins?.Count ?? 0); i++)
        {
            var origin = body.Origins![i];
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || origin!.Length > 256)
            {
                errors.Add($"origins[{i}]", "must be an http(s) origin such as https://shop.example (no path)");
                continue;
            }
            origins.Add(uri.GetLeftPart(UriPartial.Authority));
        }
        var perSecond = body.RateLimit?.PerSecond ?? 0;
        var burst = body.RateLimit?.Burst ?? 0;
        errors.Number("rateLimit.perSecond", perSecond, 0, 10_000_000);
        errors.Number("rateLimit.burst", burst, 0, 10_000_000);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        await service.PutAsync(siteId, origins, perSecond, burst, http.Actor(), ct);
        return TypedResults.Ok(keys.Sites().First(s => s.Id == siteId));
    }

    private static async Task<IResult> CreateKeyAsync(string siteId, HttpContext http, SiteService service, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.KeyRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var role = body!.Role switch { "site" => KeyRole.Site, "admin" => KeyRole.Admin, _ => (KeyRole?)null };
        if (role is null)
        {
            return JsonBody.Invalid("role", "must be 'site' (public, for storefront pages) or 'admin' (secret)");
        }
        var created = await service.CreateKeyAsync(siteId, role.Value, http.Actor(), ct);
        return created is { } c
            ? TypedResults.Created($"/v1/sites/{siteId}/keys/{c.KeyId}", new KeyCreatedResponse(siteId, c.KeyId, body.Role!, c.Key))
            : NotFound(siteId);
    }

    private static async Task<IResult> RotateKeyAsync(string siteId, string keyId, HttpContext http, SiteService service, CancellationToken ct)
    {
        var created = await service.RotateKeyAsync(siteId, keyId, http.Actor(), ct);
        return created is { } c ? TypedResults.Ok(new KeyCreatedResponse(siteId, c.KeyId, "same as before", c.Key)) : NotFound($"{siteId}/{keyId}");
    }

    private static async Task<IResult> RevokeKeyAsync(string siteId, string keyId, HttpContext http, SiteService service, CancellationToken ct) =>
        await service.RevokeKeyAsync(siteId, keyId, http.Actor(), ct) ? TypedResults.NoContent() : NotFound($"{siteId}/{keyId}");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No site or valid key '{what}' made at runtime.");
}

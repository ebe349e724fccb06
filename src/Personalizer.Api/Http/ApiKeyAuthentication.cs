using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Personalizer.Engine.Sites;

namespace Personalizer.Api.Http;

public static class Policies
{
    /// <summary>Any key of the site: a storefront page's public key or an admin key.</summary>
    public const string Site = "site";

    /// <summary>An admin key.</summary>
    public const string Admin = "admin";

    /// <summary>An operator key (settings only): sites and keys, no site's data.</summary>
    public const string Operator = "operator";
}

/// <summary>
/// <c>X-Api-Key</c> authentication. A key belongs to one site and one role; the principal of a key is
/// built once and reused, so authenticating a request allocates next to nothing.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry keys,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string QueryName = "key";

    private static readonly ConcurrentDictionary<ApiKeyIdentity, AuthenticationTicket> Tickets = new();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        ApiKeyIdentity? identity;
        if (Request.Headers.TryGetValue(HeaderName, out var values) && values.Count > 0)
        {
            identity = keys.Find(values[0]);
        }
        else if (Request.Query.TryGetValue(QueryName, out var query) && query.Count > 0)
        {
            // A beacon cannot send headers; only a public site key may travel in a URL.
            identity = keys.Find(query[0]) is { Role: KeyRole.Site } site ? site : null;
        }
        else
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (identity is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }
        Context.Items[typeof(ApiKeyIdentity)] = identity;
        return Task.FromResult(AuthenticateResult.Success(Tickets.GetOrAdd(identity, static id =>
        {
            var claims = new[] { new Claim("site", id.Site), new Claim(ClaimTypes.Role, id.Role switch { KeyRole.Admin => Policies.Admin, KeyRole.Operator => Policies.Operator, _ => Policies.Site }) };
            return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName);
        })));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Missing or unknown API key",
            $"Send a key of the site in the {HeaderName} header.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "This key may not do that",
            "A site key may decide, send events and set a visitor's preferences; everything else needs an admin key.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

public static class CallerExtensions
{
    /// <summary>The key that authenticated this request; endpoints behind a policy always have one.</summary>
    public static ApiKeyIdentity Caller(this HttpContext context) =>
        context.Items[typeof(ApiKeyIdentity)] as ApiKeyIdentity
        ?? throw new InvalidOperationException("The endpoint is not behind an API key policy.");

    /// <summary>Who made a configuration change, for the history: the <c>X-Actor</c> header if valid, else the key's fingerprint.</summary>
    public static string Actor(this HttpContext context)
    {
        var caller = context.Caller();
        var actor = context.Request.Headers["X-Actor"].ToString();
        return actor.Length is > 0 and <= 64 && actor.All(c => char.IsLetterOrDigit(c) || c is ' ' or '.' or '-' or '_' or '@')
            ? $"{actor} (key {caller.Fingerprint})"
            : $"key {caller.Fingerprint}";
    }
}

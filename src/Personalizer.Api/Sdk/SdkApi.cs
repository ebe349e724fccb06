using Microsoft.Net.Http.Headers;

namespace Personalizer.Api.Sdk;

/// <summary>
/// Serves the storefront snippet: at a versioned path cached for a year (the URL changes with every
/// release) and at <c>/sdk/personalizer.js</c>, cached for five minutes, for pages that always want
/// the latest. Files are read once at start.
/// </summary>
public static class SdkApi
{
    public static IEndpointRouteBuilder MapSdk(this IEndpointRouteBuilder app)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "sdk");
        var version = File.ReadAllText(Path.Combine(folder, "version.txt")).Trim();
        var script = File.ReadAllBytes(Path.Combine(folder, "personalizer.js"));
        var module = File.ReadAllBytes(Path.Combine(folder, "personalizer.mjs"));
        var etag = new EntityTagHeaderValue($"\"{version}-{script.Length}\"");

        IResult Serve(HttpContext http, byte[] body, TimeSpan maxAge, bool immutable)
        {
            http.Response.Headers.CacheControl = $"public, max-age={(int)maxAge.TotalSeconds}" + (immutable ? ", immutable" : "");
            http.Response.Headers.AccessControlAllowOrigin = "*";
            return TypedResults.Bytes(body, "text/javascript; charset=utf-8", entityTag: etag);
        }

        var sdk = app.MapGroup("/sdk").WithTags("Snippet").AllowAnonymous();
        sdk.MapGet("/personalizer.js", (HttpContext http) => Serve(http, script, TimeSpan.FromMinutes(5), immutable: false)).WithSummary("The snippet, latest version (cached 5 minutes).");
        sdk.MapGet("/personalizer.mjs", (HttpContext http) => Serve(http, module, TimeSpan.FromMinutes(5), immutable: false)).WithSummary("The snippet as an ES module, latest version.");
        sdk.MapGet($"/v{version}/personalizer.js", (HttpContext http) => Serve(http, script, TimeSpan.FromDays(365), immutable: true)).WithSummary("The snippet at this version (immutable).");
        sdk.MapGet($"/v{version}/personalizer.mjs", (HttpContext http) => Serve(http, module, TimeSpan.FromDays(365), immutable: true)).WithSummary("The snippet as an ES module at this version (immutable).");
        sdk.MapGet("/version", () => TypedResults.Text(version)).WithSummary("The snippet's version.");
        return app;
    }
}

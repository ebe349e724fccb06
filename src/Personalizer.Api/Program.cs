using Personalizer.Api;
using Personalizer.Api.Catalog;
using Personalizer.Api.Crm;
using Personalizer.Api.Decisions;
using Personalizer.Api.Events;
using Personalizer.Api.Experiments;
using Personalizer.Api.Http;
using Personalizer.Api.Operations;
using Personalizer.Api.Profiles;
using Personalizer.Api.Recommendations;
using Personalizer.Api.Rules;
using Personalizer.Api.Sdk;
using Personalizer.Api.Sites;
using Personalizer.Api.Slots;
using Personalizer.Api.Triggers;
using Personalizer.Engine;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);
// Every body has a limit: 64 KB unless its route sets its own (events, catalogue and slots set larger ones).
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 64 * 1024);

builder.Services.AddPersonalizer().Services.AddOptions<PersonalizerOptions>().Bind(builder.Configuration.GetSection(PersonalizerOptions.SectionName));
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
    o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
});
builder.Services.AddProblemDetails();
builder.Services.AddApiKeyAuthentication();
builder.Services.AddKeyRateLimits();
builder.Services.AddStorefrontCors();
builder.Services.AddOpenApiDescription();
builder.Services.AddOperations();
builder.Services.AddTelemetry(builder.Configuration);

// Some of FASTER's and the file system's work blocks a pool thread (FASTER's page and checkpoint writes are
// blocking writes queued to the pool): with the runtime's minimum of one worker per core, one such write on a
// one-core machine held every request until the pool grew, half a second later.
var minimumWorkers = builder.Configuration.GetValue("Personalizer:ThreadPoolMinWorkers", 8);
ThreadPool.GetMinThreads(out var workers, out var completionPorts);
ThreadPool.SetMinThreads(Math.Max(workers, minimumWorkers), completionPorts);

var app = builder.Build();

app.UseRequestLog();
app.UseExceptionHandler();
app.UseStatusCodePages();
// The console and the demo storefront: no script from anywhere but this service, and never framed.
app.Use(async (context, next) =>
{
    if (context.Request.Path.Value is "/admin")
    {
        context.Response.Redirect("/admin/");
        return;
    }
    if (context.Request.Path.StartsWithSegments("/admin"))
    {
        context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: https: http:; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
    }
    else if (context.Request.Path.StartsWithSegments("/demo"))
    {
        // The demo storefront: scripts only from files of this service (the snippet's anti-flicker style is inline).
        context.Response.Headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
    }
    await next();
});
app.UseDefaultFiles();
app.UseStaticFiles();
app.UseCors();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapOpenApi();
app.MapScalarApiReference();
app.MapOperations();
app.MapTelemetry();
app.MapSdk();
app.MapDecisionsApi();
app.MapEventsApi();
app.MapProfilesApi();
app.MapCatalogApi();
app.MapCatalogFeedApi();
app.MapSlotsApi();
app.MapRulesApi();
app.MapExperimentsApi();
app.MapCrmApi();
app.MapTriggersApi();
app.MapRecommendationsApi();
app.MapDataApi();
app.MapSitesApi();

app.Run();

/// <summary>Entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;

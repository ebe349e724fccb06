using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Profiles;

namespace Personalizer.Api.Operations;

public static class OperationsApi
{
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<LedgerHealthCheck>("ledger", tags: ["ready"]);
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers. Readiness: recovery is done and the log takes writes.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).WithTags("Operations");
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).WithTags("Operations");
        return app;
    }
}

internal sealed class LedgerHealthCheck(Ledger ledger, IProfileStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["lastSeq"] = ledger.LastSeq, ["storeMemoryBytes"] = store.MemoryBytes, ["backlog"] = ledger.Backlog };
        // Degraded is still ready (200): decide answers with fallbacks and events wait in the local log.
        // A full disk is degraded, not down: decide answers, writes get 503 with Retry-After until space returns.
        var result = !ledger.IsReady ? HealthCheckResult.Unhealthy("Recovering.", data: data)
            : ledger.WritesRefused is { } refused ? HealthCheckResult.Degraded(refused, data: data)
            : ledger.StoreDegraded || !store.IsReachable
                ? HealthCheckResult.Degraded("The profile store cannot be reached: decide falls back, events wait in the local log.", data: data)
            : HealthCheckResult.Healthy("Recovered and taking writes.", data);
        return Task.FromResult(result);
    }
}

/// <summary>Writes while the ledger cannot take them are a 503 with a reason, not a 500.</summary>
internal sealed class UnavailableExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not (LedgerUnavailableException or StoreUnavailableException))
        {
            return false;
        }
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails =
            {
                Status = 503,
                Title = exception is StoreUnavailableException ? "The profile store cannot be reached" : "Writes are not possible right now",
                Detail = exception.Message,
            },
        });
    }
}

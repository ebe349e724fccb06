using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Personalizer.Engine.Decisions;

namespace Personalizer.Api.Operations;

/// <summary>
/// OpenTelemetry: ASP.NET Core's HTTP server metrics and the Engine's own instruments (meter
/// <c>Personalizer</c>: decide latency per slot and per strategy, fallbacks by reason, log commit latency
/// and backlog, store reachability, events by outcome), scraped at <c>/metrics</c> in Prometheus format,
/// and traces of the HTTP server. Both are also exported by OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class Telemetry
{
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("personalizer"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddMeter(DecideMetrics.MeterName).AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"));
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        return services;
    }

    public static IEndpointRouteBuilder MapTelemetry(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}

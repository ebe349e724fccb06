using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Personalizer.Engine.Decisions;

namespace Personalizer.Api.Operations;

/// <summary>
/// OpenTelemetry: ASP.NET Core's HTTP server metrics and the Engine's own instruments (meter
/// <c>Personalizer</c>: decide latency per slot and per strategy, fallbacks by reason, log commit latency
/// and backlog, store reachability, events by outcome), scraped at <c>/metrics</c> in Prometheus format,
/// and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, everything by OTLP: metrics, and traces of the HTTP
/// server and of each decide (the profile read, each slot's chain). <c>OTEL_TRACES_EXPORTER=console</c>
/// writes the traces to standard output instead, to look at one without a collector.
/// </summary>
public static class Telemetry
{
    private static readonly double[] RequestBucketsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var console = string.Equals(configuration["OTEL_TRACES_EXPORTER"], "console", StringComparison.OrdinalIgnoreCase);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("personalizer"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddMeter(DecideMetrics.MeterName).AddPrometheusExporter()
                    // The server's request time in buckets that resolve a budget of a few milliseconds (the default's first is 5 ms).
                    .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = RequestBucketsSeconds });
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        // Traces only where they go somewhere: an activity per request costs allocations on every decide.
        if (otlp || console)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
                    .AddSource(DecideMetrics.MeterName);
                if (console)
                {
                    tracing.AddConsoleExporter();
                }
                else
                {
                    tracing.AddOtlpExporter();
                }
            });
        }
        return services;
    }

    public static IEndpointRouteBuilder MapTelemetry(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}

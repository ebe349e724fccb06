using System.Diagnostics;
using System.Diagnostics.Metrics;
using Personalizer.Api.Http;

namespace Personalizer.Api.Operations;

/// <summary>
/// One line per request: method, route template (never the path's ids or the query, where a beacon carries its
/// key), status, duration and site, at <c>Personalizer:RequestLogLevel</c> (Information by default; None
/// turns it off). Answers 500 and above are also counted (<c>personalizer.http.server.errors</c>, by route) and
/// logged at Warning whatever the level.
/// </summary>
public static partial class RequestLog
{
    private static readonly Meter Meter = new("Personalizer");

    private static readonly Counter<long> ServerErrors = Meter.CreateCounter<long>(
        "personalizer.http.server.errors", "{response}", "Answers with a 5xx status, by route and status.");

    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var configured = app.ApplicationServices.GetRequiredService<IConfiguration>()["Personalizer:RequestLogLevel"];
        var level = Enum.TryParse<LogLevel>(configured, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information;
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Personalizer.Requests");
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var status = context.Response.StatusCode;
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? (context.GetEndpoint() is null ? "(no route)" : context.Request.Path.Value ?? "");
                route = route.Length > 1 ? route.TrimEnd('/') : route; // a group's "/" route is the group's path
                if (status >= 500)
                {
                    ServerErrors.Add(1, new KeyValuePair<string, object?>("http.route", route), new KeyValuePair<string, object?>("http.response.status_code", status));
                }
                var at = status >= 500 ? LogLevel.Warning : level;
                if (at != LogLevel.None && logger.IsEnabled(at))
                {
                    var site = context.User.Identity?.IsAuthenticated == true ? context.Caller().Site : "-";
                    var milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    Served(logger, at, context.Request.Method, route, status, milliseconds, site);
                }
            }
        });
    }

    [LoggerMessage(EventId = 100, Message = "{Method} {Route} {Status} {Milliseconds:F1} ms site={Site}")]
    private static partial void Served(ILogger logger, LogLevel level, string method, string route, int status, double milliseconds, string site);
}

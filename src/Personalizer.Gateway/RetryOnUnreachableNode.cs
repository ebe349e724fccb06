using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Personalizer.Gateway;

/// <summary>
/// Part of the proxy pipeline, before load balancing: when the chosen node cannot be reached and
/// nothing of the answer was sent yet, the request goes to the next node the policy picks without the
/// failed one. Safe for this API: events carry their ids (a retried batch counts as duplicates), and
/// configuration writes are PUTs. Health checks take the node out for the following requests.
/// </summary>
internal static partial class RetryOnUnreachableNode
{
    [LoggerMessage(1, LogLevel.Warning, "Node {Node} failed ({Error}) on attempt {Attempt} (answer started: {Started}); another node is tried when possible")]
    private static partial void NodeFailed(ILogger logger, string? node, ForwarderError error, int attempt, bool started);

    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var limit = (long)options.RetryBodyLimitKb * 1024;
        var retryable = options.Retries > 0 && (context.Request.ContentLength is null or 0 || context.Request.ContentLength <= limit);
        if (retryable && context.Request.ContentLength > 0)
        {
            context.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        }
        // Load balancing narrows the feature's list to the one node it picked: keep the candidates.
        var candidates = context.GetReverseProxyFeature().AvailableDestinations;
        for (var attempt = 0; ; attempt++)
        {
            await next();
            var error = context.Features.Get<IForwarderErrorFeature>();
            if (error is not null)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Personalizer.Gateway.Retry");
                NodeFailed(logger, context.GetReverseProxyFeature().ProxiedDestination?.DestinationId, error.Error, attempt + 1, context.Response.HasStarted);
            }
            if (error is null || !retryable || attempt >= options.Retries || context.Response.HasStarted || !IsUnreachable(error.Error))
            {
                return;
            }
            var proxy = context.GetReverseProxyFeature();
            var failed = proxy.ProxiedDestination;
            var rest = new List<DestinationState>(candidates.Count);
            foreach (var destination in candidates)
            {
                if (!ReferenceEquals(destination, failed))
                {
                    rest.Add(destination);
                }
            }
            if (rest.Count == 0)
            {
                return;
            }
            proxy.AvailableDestinations = candidates = rest;
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status200OK;
            if (context.Request.Body.CanSeek)
            {
                context.Request.Body.Position = 0;
            }
        }
    }

    private static bool IsUnreachable(ForwarderError error) => error is ForwarderError.Request or ForwarderError.RequestTimedOut;
}

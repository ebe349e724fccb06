using System.Globalization;
using System.Text.Json.Serialization;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Personalizer.Gateway;

/// <summary>The proxy configuration made from <see cref="GatewayOptions"/>: what is proxied, to which nodes, how they are checked.</summary>
internal static class GatewayConfig
{
    public const string ClusterId = "api";

    /// <summary>The public surface of the API nodes; the gateway's own endpoints live under <c>/gateway</c>.</summary>
    private static readonly string[] Paths = ["/v1/{**rest}", "/sdk/{**rest}", "/demo/{**rest}", "/demo", "/admin/{**rest}", "/admin", "/openapi/{**rest}", "/scalar/{**rest}"];

    public static IReadOnlyList<RouteConfig> Routes() =>
        [.. Paths.Select((path, i) => new RouteConfig
        {
            RouteId = "r" + i.ToString(CultureInfo.InvariantCulture),
            ClusterId = ClusterId,
            Match = new RouteMatch { Path = path },
        })];

    public static ClusterConfig Cluster(GatewayOptions options) => new()
    {
        ClusterId = ClusterId,
        LoadBalancingPolicy = options.Routing == GatewayRouting.VisitorHash ? VisitorHashPolicy.PolicyName : LoadBalancingPolicies.RoundRobin,
        Destinations = options.Nodes
            .Select((address, i) => (Id: "node" + (i + 1).ToString(CultureInfo.InvariantCulture), address))
            .ToDictionary(n => n.Id, n => new DestinationConfig { Address = n.address, Health = n.address }, StringComparer.Ordinal),
        HealthCheck = new HealthCheckConfig
        {
            Active = new ActiveHealthCheckConfig
            {
                Enabled = true,
                Interval = TimeSpan.FromSeconds(options.HealthIntervalSeconds),
                Timeout = TimeSpan.FromSeconds(options.HealthTimeoutSeconds),
                Policy = "ConsecutiveFailures",
                Path = options.HealthPath,
            },
            Passive = new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = "TransportFailureRate",
                ReactivationPeriod = TimeSpan.FromSeconds(Math.Max(2, options.HealthIntervalSeconds * 2)),
            },
        },
        Metadata = new Dictionary<string, string>
        {
            // One failed probe is enough to take a node out; the next good one brings it back.
            ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1",
        },
        HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(30) },
    };
}

public sealed record NodeStatus(string Id, string Address, string Active, string Passive, int InFlight);

[JsonSerializable(typeof(NodeStatus[]))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;

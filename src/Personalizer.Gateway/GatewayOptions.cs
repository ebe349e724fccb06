using System.ComponentModel.DataAnnotations;

namespace Personalizer.Gateway;

/// <summary>Settings bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Base addresses of the API nodes, e.g. <c>http://10.0.0.5:5080</c>.</summary>
    [MinLength(1)]
    public List<string> Nodes { get; set; } = [];

    /// <summary>
    /// <c>VisitorHash</c> (default): each visitor goes to the node that owns them on a consistent-hash ring,
    /// required when every node keeps its own FASTER store; <c>RoundRobin</c> when the nodes share Redis.
    /// </summary>
    public GatewayRouting Routing { get; set; } = GatewayRouting.VisitorHash;

    /// <summary>Path of the active health probe on each node (its readiness: a degraded node still serves).</summary>
    public string HealthPath { get; set; } = "/readyz";

    [Range(0.1, 3600)]
    public double HealthIntervalSeconds { get; set; } = 2;

    [Range(0.1, 60)]
    public double HealthTimeoutSeconds { get; set; } = 1;

    /// <summary>How many other nodes a request is tried on when its node cannot be reached (connection refused, reset before an answer).</summary>
    [Range(0, 10)]
    public int Retries { get; set; } = 2;

    /// <summary>Largest request body that is kept for a retry, in KiB; a larger one is forwarded once.</summary>
    [Range(1, 65_536)]
    public int RetryBodyLimitKb { get; set; } = 1024;
}

public enum GatewayRouting
{
    VisitorHash,
    RoundRobin,
}

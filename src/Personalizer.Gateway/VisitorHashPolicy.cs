using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Personalizer.Gateway;

/// <summary>
/// Consistent hashing by visitor: the visitor id (header <c>X-Visitor-Id</c>, set by the snippet and
/// the apps, else the snippet's <c>p13n_vid</c> cookie, else the <c>visitorId</c> query parameter) is
/// hashed onto a ring of <see cref="VirtualNodes"/> points per configured node. A visitor goes to the
/// first healthy node clockwise from their point: when a node dies only its own visitors move, and
/// they come back when it returns. Requests without a visitor id go round-robin.
/// </summary>
public sealed class VisitorHashPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "VisitorHash";
    public const string VisitorHeader = "X-Visitor-Id";
    public const string VisitorCookie = "p13n_vid";
    public const int VirtualNodes = 160;

    private readonly ConditionalWeakTable<ClusterState, Ring> _rings = [];
    private int _roundRobin;

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0)
        {
            return null;
        }
        var visitor = VisitorId(context.Request);
        if (string.IsNullOrEmpty(visitor))
        {
            return availableDestinations[(Interlocked.Increment(ref _roundRobin) & int.MaxValue) % availableDestinations.Count];
        }
        var ring = _rings.GetValue(cluster, static _ => new Ring());
        return ring.Pick(cluster, Hash(visitor), availableDestinations);
    }

    public static string? VisitorId(HttpRequest request)
    {
        if (request.Headers.TryGetValue(VisitorHeader, out var header) && header.Count > 0 && !string.IsNullOrEmpty(header[0]))
        {
            return header[0];
        }
        if (request.Cookies.TryGetValue(VisitorCookie, out var cookie) && !string.IsNullOrEmpty(cookie))
        {
            return cookie;
        }
        return request.Query.TryGetValue("visitorId", out var query) ? query.ToString() : null;
    }

    public static ulong Hash(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(value, buffer);
        return XxHash3.HashToUInt64(buffer[..length]);
    }

    /// <summary>The ring of one cluster, rebuilt when its configured nodes change.</summary>
    private sealed class Ring
    {
        private Built? _built;

        public DestinationState? Pick(ClusterState cluster, ulong point, IReadOnlyList<DestinationState> available)
        {
            var destinations = cluster.Destinations;
            var built = _built;
            if (built is null || !ReferenceEquals(built.Source, destinations))
            {
                built = _built = new Built(destinations);
            }
            var points = built.Points;
            var start = Array.BinarySearch(points, point);
            if (start < 0)
            {
                start = ~start;
            }
            for (var i = 0; i < points.Length; i++)
            {
                var owner = built.Owners[(start + i) % points.Length];
                for (var d = 0; d < available.Count; d++)
                {
                    if (string.Equals(available[d].DestinationId, owner, StringComparison.Ordinal))
                    {
                        return available[d];
                    }
                }
            }
            return available[0];
        }
    }

    private sealed class Built
    {
        public Built(IReadOnlyDictionary<string, DestinationState> destinations)
        {
            Source = destinations;
            var entries = new List<(ulong Point, string Owner)>(destinations.Count * VirtualNodes);
            foreach (var id in destinations.Keys)
            {
                for (var v = 0; v < VirtualNodes; v++)
                {
                    entries.Add((Hash(id + "#" + v.ToString(System.Globalization.CultureInfo.InvariantCulture)), id));
                }
            }
            entries.Sort((a, b) => a.Point.CompareTo(b.Point) is var c && c != 0 ? c : string.CompareOrdinal(a.Owner, b.Owner));
            Points = [.. entries.Select(e => e.Point)];
            Owners = [.. entries.Select(e => e.Owner)];
        }

        public object Source { get; }
        public ulong[] Points { get; }
        public string[] Owners { get; }
    }
}

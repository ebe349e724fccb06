using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Sites;

public sealed class SiteOptions
{
    /// <summary>Public keys a storefront page carries: decide, events, the visitor's own preferences.</summary>
    public List<string> SiteKeys { get; set; } = [];

    /// <summary>Secret keys that may do everything within the site.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Storefront origins allowed to call the API from a browser (CORS), e.g. <c>https://shop.example</c>.</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>How fast each key of the site may call the API.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>A token bucket per key: <see cref="PerSecond"/> requests a second on average, up to <see cref="Burst"/> at once.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests a second per key; 0: no limit.</summary>
    [Range(0, 10_000_000)]
    public int PerSecond { get; set; }

    /// <summary>Requests a key may make at once above the rate (0: one second's worth).</summary>
    [Range(0, 10_000_000)]
    public int Burst { get; set; }
}

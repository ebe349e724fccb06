namespace Personalizer.Engine.Rules;

/// <summary>What the page tells about the request; every field optional.</summary>
public sealed class RequestContext
{
    public string? Url { get; init; }
    public string? Referrer { get; init; }
    public string? Device { get; init; }
    public string? Country { get; init; }
    public string? Language { get; init; }
    public IReadOnlyDictionary<string, string>? Utm { get; init; }
    /// <summary>Custom string attributes of the storefront (e.g. <c>pageType</c>).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    public static RequestContext Empty { get; } = new();
}

namespace Personalizer.Engine.Sites;

public sealed class SiteOptions
{
    /// <summary>Public keys a storefront page carries: decide, events, the visitor's own preferences.</summary>
    public List<string> SiteKeys { get; set; } = [];

    /// <summary>Secret keys that may do everything within the site.</summary>
    public List<string> AdminKeys { get; set; } = [];

    /// <summary>Storefront origins allowed to call the API from a browser (CORS), e.g. <c>https://shop.example</c>.</summary>
    public List<string> Origins { get; set; } = [];
}

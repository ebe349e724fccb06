using System.Collections.Frozen;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Sites;

public enum KeyRole
{
    /// <summary>Public, carried by a storefront page: decide, events, the visitor's own preferences.</summary>
    Site = 1,
    /// <summary>Secret: everything within the site.</summary>
    Admin = 2,
}

public sealed record ApiKeyIdentity(string Site, KeyRole Role, string Fingerprint);

/// <summary>Maps each configured key to the one site it belongs to. Built once at start; a key listed twice fails start-up.</summary>
public sealed class ApiKeyRegistry
{
    private readonly FrozenDictionary<string, ApiKeyIdentity> _keys;
    private readonly IReadOnlyDictionary<string, SiteOptions> _sites;

    public ApiKeyRegistry(IReadOnlyDictionary<string, SiteOptions> sites)
    {
        _sites = sites;
        var keys = new Dictionary<string, ApiKeyIdentity>(StringComparer.Ordinal);
        foreach (var (site, siteOptions) in sites)
        {
            if (!Ids.IsValid(site))
            {
                throw new InvalidOperationException($"Site id '{site}' is not valid: {Ids.Rule}.");
            }
            Add(keys, site, KeyRole.Site, siteOptions.SiteKeys);
            Add(keys, site, KeyRole.Admin, siteOptions.AdminKeys);
        }
        _keys = keys.ToFrozenDictionary(StringComparer.Ordinal);
        Origins = sites.Values.SelectMany(s => s.Origins).Select(o => o.TrimEnd('/')).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        SiteIds = [.. sites.Keys];
    }

    public IReadOnlyList<string> SiteIds { get; }

    /// <summary>Storefront origins of every site, for CORS.</summary>
    public FrozenSet<string> Origins { get; }

    /// <summary>The rate limit of a site's keys (no limit for a site not configured).</summary>
    public RateLimitOptions RateLimit(string site) => _sites.TryGetValue(site, out var options) ? options.RateLimit : NoLimit;

    private static readonly RateLimitOptions NoLimit = new();

    public ApiKeyIdentity? Find(string? key) => key is not null && _keys.TryGetValue(key, out var id) ? id : null;

    private static void Add(Dictionary<string, ApiKeyIdentity> keys, string site, KeyRole role, List<string> values)
    {
        foreach (var key in values)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length < 8)
            {
                throw new InvalidOperationException($"A key of site '{site}' is shorter than 8 characters.");
            }
            if (!keys.TryAdd(key, new ApiKeyIdentity(site, role, Fingerprint(key))))
            {
                throw new InvalidOperationException($"A key of site '{site}' is configured more than once; each key belongs to exactly one site and role.");
            }
        }
    }

    /// <summary>What logs and audit entries show of a key: never the key itself.</summary>
    private static string Fingerprint(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..8];
}

using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Personalizer.Engine.Validation;

namespace Personalizer.Engine.Sites;

public enum KeyRole
{
    /// <summary>Public, carried by a storefront page: decide, events, the visitor's own preferences.</summary>
    Site = 1,
    /// <summary>Secret: everything within the site.</summary>
    Admin = 2,
    /// <summary>Secret, from settings only: manages sites and their keys (<c>/v1/sites</c>), no site's data.</summary>
    Operator = 3,
}

public sealed record ApiKeyIdentity(string Site, KeyRole Role, string Fingerprint);

/// <summary>A site as an operator sees it: where it comes from, its origins, limit and keys (never a key itself).</summary>
public sealed record SiteView(string Id, bool Configured, IReadOnlyList<string> Origins, int PerSecond, int Burst, IReadOnlyList<KeyView> Keys);

public sealed record KeyView(string Id, KeyRole Role, string Fingerprint, long CreatedAt, long RevokedAt);

/// <summary>
/// Maps each key to the one site and role it belongs to: the keys of the settings (the bootstrap), and the
/// keys made at runtime through <c>/v1/sites</c> (<see cref="SiteProjection"/>: durable, on every node).
/// Keys are held only as SHA-256 hashes; a lookup hashes the key on the stack and allocates nothing. A key
/// listed twice in settings fails start-up.
/// </summary>
public sealed class ApiKeyRegistry
{
    public const string OperatorSite = "*";

    private readonly IReadOnlyDictionary<string, SiteOptions> _configured;
    private readonly Dictionary<UInt128, Entry> _configuredKeys = [];
    private readonly Lock _lock = new();
    private Dictionary<string, RuntimeSite> _runtime = new(StringComparer.Ordinal);
    private State _state;

    public ApiKeyRegistry(IReadOnlyDictionary<string, SiteOptions> sites, IReadOnlyList<string>? operatorKeys = null)
    {
        _configured = sites;
        foreach (var (site, siteOptions) in sites)
        {
            if (!Ids.IsValid(site))
            {
                throw new InvalidOperationException($"Site id '{site}' is not valid: {Ids.Rule}.");
            }
            Add(site, KeyRole.Site, siteOptions.SiteKeys);
            Add(site, KeyRole.Admin, siteOptions.AdminKeys);
        }
        Add(OperatorSite, KeyRole.Operator, [.. operatorKeys ?? []]);
        _state = Build();
    }

    public IReadOnlyList<string> SiteIds => _state.SiteIds;

    /// <summary>Storefront origins of every site, for CORS.</summary>
    public FrozenSet<string> Origins => _state.Origins;

    /// <summary>The rate limit of a site's keys (no limit for a site not configured).</summary>
    public RateLimitOptions RateLimit(string site) => _state.Limits.TryGetValue(site, out var limit) ? limit : NoLimit;

    private static readonly RateLimitOptions NoLimit = new();

    /// <summary>True when the site exists (in settings or made at runtime).</summary>
    public bool Exists(string site) => _state.Limits.ContainsKey(site);

    public ApiKeyIdentity? Find(string? key)
    {
        if (key is null || key.Length is 0 or > 256)
        {
            return null;
        }
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        var id = System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
        var state = _state;
        if (state.Keys.TryGetValue(id, out var entry) && hash.SequenceEqual(entry.Hash))
        {
            return entry.Identity;
        }
        return _configuredKeys.TryGetValue(id, out entry) && hash.SequenceEqual(entry.Hash) ? entry.Identity : null;
    }

    /// <summary>SHA-256 of a key, hex: what a runtime key is stored as.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Every site, configured and made at runtime.</summary>
    public IReadOnlyList<SiteView> Sites()
    {
        Dictionary<string, RuntimeSite> runtime;
        lock (_lock)
        {
            runtime = _runtime;
        }
        var views = new List<SiteView>();
        foreach (var id in SiteIds)
        {
            var configured = _configured.TryGetValue(id, out var options);
            runtime.TryGetValue(id, out var site);
            var keys = new List<KeyView>();
            if (options is not null)
            {
                keys.AddRange(options.SiteKeys.Select(k => new KeyView("settings", KeyRole.Site, Fingerprint(Hash(k)), 0, 0)));
                keys.AddRange(options.AdminKeys.Select(k => new KeyView("settings", KeyRole.Admin, Fingerprint(Hash(k)), 0, 0)));
            }
            keys.AddRange((site?.Keys ?? []).Select(k => new KeyView(k.Id, k.Role, Fingerprint(k.Hash), k.CreatedAt, k.RevokedAt)));
            var limit = RateLimit(id);
            var origins = (options?.Origins ?? []).Concat(site?.Origins ?? []).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            views.Add(new SiteView(id, configured, origins, limit.PerSecond, limit.Burst, keys));
        }
        return views;
    }

    /// <summary>Applies a runtime change (from the log or the change feed); false when it changes nothing.</summary>
    public bool Apply(SiteChangeRecord change)
    {
        lock (_lock)
        {
            var sites = new Dictionary<string, RuntimeSite>(_runtime, StringComparer.Ordinal);
            sites.TryGetValue(change.SiteId, out var current);
            var site = current is null ? null : Copy(current);
            switch (change.Kind)
            {
                case SiteChangeKind.Put:
                    site ??= new RuntimeSite { Id = change.SiteId, CreatedAt = change.At };
                    site.Origins = change.Origins ?? site.Origins;
                    site.PerSecond = change.PerSecond;
                    site.Burst = change.Burst;
                    break;
                case SiteChangeKind.AddKey when change.KeyId is not null && change.KeyHash is not null:
                    if (site is null && !_configured.ContainsKey(change.SiteId))
                    {
                        return false;
                    }
                    site ??= new RuntimeSite { Id = change.SiteId, CreatedAt = change.At, PerSecond = -1 };
                    if (site.Keys.Any(k => k.Id == change.KeyId))
                    {
                        return false;
                    }
                    site.Keys.Add(new RuntimeKey { Id = change.KeyId, Hash = change.KeyHash, Role = change.Role, CreatedAt = change.At });
                    break;
                case SiteChangeKind.RevokeKey when site is not null && site.Keys.Find(k => k.Id == change.KeyId) is { RevokedAt: 0 } key:
                    key.RevokedAt = Math.Max(1, change.At);
                    break;
                default:
                    return false;
            }
            sites[change.SiteId] = site;
            _runtime = sites;
            _state = Build();
            return true;
        }
    }

    public List<RuntimeSite> RuntimeSnapshot()
    {
        lock (_lock)
        {
            return [.. _runtime.Values.Select(Copy)];
        }
    }

    public void RestoreRuntime(IEnumerable<RuntimeSite> sites)
    {
        lock (_lock)
        {
            _runtime = sites.ToDictionary(s => s.Id, StringComparer.Ordinal);
            _state = Build();
        }
    }

    private State Build()
    {
        var keys = new Dictionary<UInt128, Entry>();
        var limits = new Dictionary<string, RateLimitOptions>(StringComparer.Ordinal);
        foreach (var (id, options) in _configured)
        {
            limits[id] = options.RateLimit;
        }
        var origins = new HashSet<string>(_configured.Values.SelectMany(s => s.Origins).Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
        foreach (var site in _runtime.Values)
        {
            // A site that only got keys at runtime keeps its settings' limit (-1); a site put at runtime has its own.
            if (site.PerSecond >= 0)
            {
                limits[site.Id] = new RateLimitOptions { PerSecond = site.PerSecond, Burst = site.Burst };
            }
            else
            {
                limits.TryAdd(site.Id, NoLimit);
            }
            origins.UnionWith(site.Origins.Select(o => o.TrimEnd('/')));
            foreach (var key in site.Keys)
            {
                if (key.RevokedAt == 0)
                {
                    var hash = Convert.FromHexString(key.Hash);
                    keys[System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash)] = new Entry(hash, new ApiKeyIdentity(site.Id, key.Role, Fingerprint(key.Hash)));
                }
            }
        }
        return new State(keys.ToFrozenDictionary(), origins.ToFrozenSet(StringComparer.OrdinalIgnoreCase), [.. limits.Keys.Order(StringComparer.Ordinal)], limits.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private void Add(string site, KeyRole role, List<string> values)
    {
        foreach (var key in values)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length < 8)
            {
                throw new InvalidOperationException($"A key of site '{site}' is shorter than 8 characters.");
            }
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            if (!_configuredKeys.TryAdd(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash), new Entry(hash, new ApiKeyIdentity(site, role, Fingerprint(Convert.ToHexStringLower(hash))))))
            {
                throw new InvalidOperationException($"A key of site '{site}' is configured more than once; each key belongs to exactly one site and role.");
            }
        }
    }

    /// <summary>What logs and audit entries show of a key: never the key itself.</summary>
    private static string Fingerprint(string hashHex) => hashHex[..8];

    private static RuntimeSite Copy(RuntimeSite s) => new()
    {
        Id = s.Id, Origins = s.Origins, PerSecond = s.PerSecond, Burst = s.Burst, CreatedAt = s.CreatedAt,
        Keys = [.. s.Keys.Select(k => new RuntimeKey { Id = k.Id, Hash = k.Hash, Role = k.Role, CreatedAt = k.CreatedAt, RevokedAt = k.RevokedAt })],
    };

    private sealed record Entry(byte[] Hash, ApiKeyIdentity Identity);

    private sealed record State(FrozenDictionary<UInt128, Entry> Keys, FrozenSet<string> Origins, IReadOnlyList<string> SiteIds, FrozenDictionary<string, RateLimitOptions> Limits);
}

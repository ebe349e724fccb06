using System.Security.Cryptography;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Sites;

/// <summary>Sites and keys at runtime: each change is a shared record, ordered by the change feed, applied on every node.</summary>
public sealed class SiteService(IChangeFeed changes, ApiKeyRegistry keys, TimeProvider time)
{
    /// <summary>Creates a site, or sets its origins and rate limit.</summary>
    public Task PutAsync(string site, IReadOnlyList<string> origins, int perSecond, int burst, string author, CancellationToken ct = default) =>
        changes.SubmitAsync(new SiteChangeRecord
        {
            SiteId = site, Kind = SiteChangeKind.Put, Origins = [.. origins.Select(o => o.TrimEnd('/'))], PerSecond = perSecond, Burst = burst, At = Now(), Author = author,
        }, ct);

    /// <summary>Makes a key: returned once, stored only as its hash. Null when the site does not exist.</summary>
    public async Task<(string KeyId, string Key)?> CreateKeyAsync(string site, KeyRole role, string author, CancellationToken ct = default)
    {
        if (!keys.Exists(site) || role is not (KeyRole.Site or KeyRole.Admin))
        {
            return null;
        }
        var key = (role == KeyRole.Site ? "pk_" : "sk_") + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        var keyId = "k-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var outcome = await changes.SubmitAsync(new SiteChangeRecord
        {
            SiteId = site, Kind = SiteChangeKind.AddKey, KeyId = keyId, KeyHash = ApiKeyRegistry.Hash(key), Role = role, At = Now(), Author = author,
        }, ct).ConfigureAwait(false);
        return outcome.Applied == 1 ? (keyId, key) : null;
    }

    /// <summary>Refuses a key from now on, on every node; false when there is no such valid key.</summary>
    public async Task<bool> RevokeKeyAsync(string site, string keyId, string author, CancellationToken ct = default)
    {
        var outcome = await changes.SubmitAsync(new SiteChangeRecord { SiteId = site, Kind = SiteChangeKind.RevokeKey, KeyId = keyId, At = Now(), Author = author }, ct).ConfigureAwait(false);
        return outcome.Applied == 1;
    }

    /// <summary>A new key of the same role, then the old one revoked. Null when there is no such valid key.</summary>
    public async Task<(string KeyId, string Key)?> RotateKeyAsync(string site, string keyId, string author, CancellationToken ct = default)
    {
        var old = keys.Sites().FirstOrDefault(s => s.Id == site)?.Keys.FirstOrDefault(k => k.Id == keyId && k.RevokedAt == 0);
        if (old is null)
        {
            return null;
        }
        var created = await CreateKeyAsync(site, old.Role, author, ct).ConfigureAwait(false);
        if (created is not null)
        {
            await RevokeKeyAsync(site, keyId, author, ct).ConfigureAwait(false);
        }
        return created;
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}

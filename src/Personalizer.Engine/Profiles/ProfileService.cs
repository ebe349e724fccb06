using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>Reads the single customer view and carries out a visitor's erasure and preferences.</summary>
public sealed class ProfileService(IProfileStore store, Ledger ledger, TimeProvider time)
{
    /// <summary>The profile holding the visitor's view, following merge redirects; null when there is none.</summary>
    public async ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default)
    {
        var profile = await store.GetAsync(site, visitorId, ct).ConfigureAwait(false);
        for (var hop = 0; hop < 8 && profile is { IsRedirect: true }; hop++)
        {
            profile = await store.GetAsync(site, profile.MergedInto!, ct).ConfigureAwait(false);
        }
        return profile is { IsRedirect: true } ? null : profile;
    }

    /// <summary>Erases the visitor's profile (and the profiles merged with it); durable before it returns.</summary>
    public async Task<bool> EraseAsync(string site, string visitorId, CancellationToken ct = default)
    {
        var outcome = await ledger.SubmitAsync(new EraseProfileRecord(site, visitorId, time.GetUtcNow().ToUnixTimeMilliseconds()), ct).ConfigureAwait(false);
        return outcome.Found;
    }

    public async Task SetPreferencesAsync(string site, string visitorId, VisitorPreferences preferences, CancellationToken ct = default)
    {
        preferences.UpdatedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
        await ledger.SubmitAsync(new PreferencesRecord(site, visitorId, preferences), ct).ConfigureAwait(false);
    }
}

using MessagePack;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using StackExchange.Redis;

namespace Personalizer.Engine.Storage.Redis;

/// <summary>
/// Profiles in Redis or a Redis Cluster, shared by every node. A profile is a hash of its MessagePack
/// bytes (<c>v</c>) and a revision (<c>r</c>); a write is a Lua script that stores the new bytes only when
/// the revision is still the one read (optimistic concurrency across nodes), bumps it and sets the
/// expiry. A visitor's keys carry the hash tag <c>{site/visitor}</c>, so they share one cluster slot.
/// Event-id claims are a compare-and-set script with their own expiry. The checkpoint marker is local
/// (it says how far this node's own log has been applied), so a node restarts without Redis and
/// replays what it had not applied yet.
/// </summary>
public sealed class RedisProfileStore : IProfileStore
{
    // KEYS[1] the profile, KEYS[2..] event claims of the same visitor (same hash tag, same slot).
    private const string PutScript = """
        local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
        if r ~= tonumber(ARGV[1]) then return -1 end
        for i = 2, #KEYS do
          local v = redis.call('GET', KEYS[i])
          if v and v ~= ARGV[4] then return -2 end
        end
        for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[4], 'PX', ARGV[5]) end
        redis.call('HSET', KEYS[1], 'v', ARGV[2], 'r', r + 1)
        local ttl = tonumber(ARGV[3])
        if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('PERSIST', KEYS[1]) end
        return r + 1
        """;

    private const string ClaimScript = """
        local v = redis.call('GET', KEYS[1])
        if not v then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        if v == ARGV[1] then return 1 end
        return 0
        """;

    private static readonly RedisValue[] ProfileFields = ["v", "r"];

    private readonly RedisConnection _redis;
    private readonly string _prefix;
    private readonly long _anonymousTtlMs;
    private readonly long _eventTtlMs;
    private readonly string _markerPath;

    public RedisProfileStore(RedisConnection redis, RedisOptions options, string stateDirectory)
    {
        _redis = redis;
        _prefix = options.KeyPrefix;
        _anonymousTtlMs = (long)TimeSpan.FromDays(options.AnonymousProfileTtlDays).TotalMilliseconds;
        _eventTtlMs = (long)TimeSpan.FromDays(options.EventIdTtlDays).TotalMilliseconds;
        Directory.CreateDirectory(stateDirectory);
        _markerPath = Path.Combine(stateDirectory, "redis-applied.marker");
    }

    public bool IsShared => true;

    public bool IsReachable => _redis.IsConnected;

    public long MemoryBytes => 0;

    internal RedisKey ProfileKey(string site, string visitorId) => $"{_prefix}:p:{{{site}/{visitorId}}}";

    internal RedisKey EventKey(string site, string visitorId, string eventId) => $"{_prefix}:e:{{{site}/{visitorId}}}:{eventId}";

    private RedisKey CustomerKey(string site, string customerId) => $"{_prefix}:c:{site}/{customerId}";

    public async ValueTask<VisitorProfile?> GetAsync(string site, string visitorId, CancellationToken ct = default)
    {
        var key = ProfileKey(site, visitorId);
        var values = await _redis.CallAsync(db => db.HashGetAsync(key, ProfileFields)).ConfigureAwait(false);
        if (values[0].IsNull)
        {
            return null;
        }
        var profile = MessagePackSerializer.Deserialize<VisitorProfile>((ReadOnlyMemory<byte>)values[0], cancellationToken: ct);
        profile.Revision = (long)values[1];
        return profile;
    }

    public async ValueTask PutAsync(string site, VisitorProfile profile, EventClaims? claims = null, CancellationToken ct = default)
    {
        var keys = new RedisKey[1 + (claims?.EventIds.Count ?? 0)];
        keys[0] = ProfileKey(site, profile.VisitorId);
        for (var i = 1; i < keys.Length; i++)
        {
            keys[i] = EventKey(site, profile.VisitorId, claims!.EventIds[i - 1]);
        }
        var bytes = MessagePackSerializer.Serialize(profile, cancellationToken: ct);
        var anonymous = profile.CustomerId is null && profile.Orders == 0;
        var ttl = anonymous ? _anonymousTtlMs : 0;
        RedisValue[] args = [profile.Revision, bytes, ttl, claims?.Claim.ToString() ?? "", _eventTtlMs];
        var result = (long)await _redis.CallAsync(db => db.ScriptEvaluateAsync(PutScript, keys, args)).ConfigureAwait(false);
        if (result < 0)
        {
            throw new WriteConflictException(site + "/" + profile.VisitorId + (result == -2 ? " (an event claimed by another record)" : ""));
        }
        profile.Revision = result;
    }

    public async ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default)
    {
        var key = ProfileKey(site, visitorId);
        await _redis.CallAsync(db => db.KeyDeleteAsync(key)).ConfigureAwait(false);
    }

    public async ValueTask<EventClaim?> GetEventClaimAsync(string site, string visitorId, string eventId, CancellationToken ct = default)
    {
        var key = EventKey(site, visitorId, eventId);
        var value = await _redis.CallAsync(db => db.StringGetAsync(key)).ConfigureAwait(false);
        if (value.IsNull)
        {
            return null;
        }
        return EventClaim.Parse(value.ToString());
    }

    public async ValueTask<bool> ClaimEventAsync(string site, string visitorId, string eventId, EventClaim claim, CancellationToken ct = default)
    {
        var key = EventKey(site, visitorId, eventId);
        var result = await _redis.CallAsync(db => db.ScriptEvaluateAsync(ClaimScript, [key], [claim.ToString(), _eventTtlMs])).ConfigureAwait(false);
        return (long)result == 1;
    }

    public async ValueTask<string?> GetCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default)
    {
        var key = CustomerKey(site, customerId);
        var value = await _redis.CallAsync(db => db.StringGetAsync(key)).ConfigureAwait(false);
        return value.IsNull ? null : (string?)value;
    }

    public async ValueTask PutCustomerVisitorAsync(string site, string customerId, string visitorId, CancellationToken ct = default)
    {
        var key = CustomerKey(site, customerId);
        await _redis.CallAsync(db => db.StringSetAsync(key, visitorId)).ConfigureAwait(false);
    }

    public async ValueTask DeleteCustomerVisitorAsync(string site, string customerId, CancellationToken ct = default)
    {
        var key = CustomerKey(site, customerId);
        await _redis.CallAsync(db => db.KeyDeleteAsync(key)).ConfigureAwait(false);
    }

    public ValueTask<CheckpointMarker?> RecoverAsync(CancellationToken ct = default)
    {
        if (!File.Exists(_markerPath))
        {
            return ValueTask.FromResult<CheckpointMarker?>(null);
        }
        var stored = MessagePackSerializer.Deserialize<StoredMarker>(File.ReadAllBytes(_markerPath), cancellationToken: ct);
        return ValueTask.FromResult<CheckpointMarker?>(new CheckpointMarker(stored.ReplayFrom, stored.LastSeq));
    }

    /// <summary>
    /// Every write before this call has been acknowledged by Redis (the applier awaits each one), so the
    /// checkpoint is only the local marker. Redis's own durability (AOF) is Redis's configuration.
    /// </summary>
    public Task<bool> CheckpointAsync(CheckpointMarker marker, bool full, CancellationToken ct = default)
    {
        var temp = _markerPath + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            MessagePackSerializer.Serialize(stream, new StoredMarker { ReplayFrom = marker.ReplayFrom, LastSeq = marker.LastSeq }, cancellationToken: ct);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _markerPath, overwrite: true);
        return Task.FromResult(true);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>How far this node's log is applied (a local file: it is about this node's log).</summary>
    [MessagePackObject]
    public sealed class StoredMarker
    {
        [Key(0)] public long ReplayFrom { get; set; }
        [Key(1)] public long LastSeq { get; set; }
    }
}

using MessagePack;
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
    private const string PutScript = """
        local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
        if r ~= tonumber(ARGV[1]) then return -1 end
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

    public long MemoryBytes => 0;

    internal RedisKey ProfileKey(string site, string visitorId) => $"{_prefix}:p:{{{site}/{visitorId}}}";

    private RedisKey EventKey(string site, string eventId) => $"{_prefix}:e:{site}/{eventId}";

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

    public async ValueTask PutAsync(string site, VisitorProfile profile, CancellationToken ct = default)
    {
        var key = ProfileKey(site, profile.VisitorId);
        var bytes = MessagePackSerializer.Serialize(profile, cancellationToken: ct);
        var anonymous = profile.CustomerId is null && profile.Orders == 0;
        var ttl = anonymous ? _anonymousTtlMs : 0;
        var result = (long)await _redis.CallAsync(db => db.ScriptEvaluateAsync(PutScript, [key], [profile.Revision, bytes, ttl])).ConfigureAwait(false);
        if (result < 0)
        {
            throw new WriteConflictException(site + "/" + profile.VisitorId);
        }
        profile.Revision = result;
    }

    public async ValueTask DeleteAsync(string site, string visitorId, CancellationToken ct = default)
    {
        var key = ProfileKey(site, visitorId);
        await _redis.CallAsync(db => db.KeyDeleteAsync(key)).ConfigureAwait(false);
    }

    public async ValueTask<bool> ClaimEventAsync(string site, string eventId, EventClaim claim, CancellationToken ct = default)
    {
        var key = EventKey(site, eventId);
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
        var stored = MessagePackSerializer.Deserialize<Faster.FasterProfileStore.StoredMarker>(File.ReadAllBytes(_markerPath), cancellationToken: ct);
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
            MessagePackSerializer.Serialize(stream, new Faster.FasterProfileStore.StoredMarker { ReplayFrom = marker.ReplayFrom, LastSeq = marker.LastSeq }, cancellationToken: ct);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _markerPath, overwrite: true);
        return Task.FromResult(true);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

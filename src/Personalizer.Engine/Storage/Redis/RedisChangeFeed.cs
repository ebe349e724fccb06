using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Recommendations;
using StackExchange.Redis;

namespace Personalizer.Engine.Storage.Redis;

/// <summary>
/// Shared state for several nodes: every catalogue, configuration and model change is an entry of one
/// Redis stream (<c>PREFIX:changes</c>), and every node applies the entries in stream order to its
/// in-memory catalogue and configuration. Applying is deterministic, so all nodes hold the same
/// versions; a published notification on the channel of the same name wakes the readers at once, and a
/// one-second poll covers a missed message or a reconnect. The node that wrote an entry answers its
/// caller when it has applied the entry itself, so a change is visible on that node when the call returns.
/// Which records are shared, and how each is applied, is what the projections registered.
/// </summary>
public sealed class RedisChangeFeed : IChangeFeed, IModelPublisher, IAsyncDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private const int ReadBatch = 256;

    private readonly RedisConnection _redis;
    private readonly ProjectionRegistry _projections;
    private readonly ModelRegistry _models;
    private readonly ILogger _logger;
    private readonly string _node;
    private readonly RedisKey _stream;
    private readonly RedisChannel _channel;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ApplyOutcome>> _waiting = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private RedisValue _position = "0-0";
    private Dictionary<string, ModelPublishedRecord>? _latestModels = new(StringComparer.Ordinal); // while catching up at start
    private Task _follower = Task.CompletedTask;

    public RedisChangeFeed(RedisConnection redis, ProjectionRegistry projections, ModelRegistry models, LogNode node, ILogger<RedisChangeFeed> logger)
    {
        _redis = redis;
        _projections = projections;
        _models = models;
        _logger = logger;
        _node = node.Id;
        _stream = redis.Prefix + ":changes";
        _channel = RedisChannel.Literal(redis.Prefix + ":changes");
    }

    /// <summary>The last stream entry applied here.</summary>
    public string Position => _position.ToString();

    public async Task StartAsync(CancellationToken ct)
    {
        // State comes from the stream alone: what a local snapshot held is rebuilt from the start.
        foreach (var part in _projections.SharedParts)
        {
            part.Load(null);
        }
        var started = Stopwatch.GetTimestamp();
        var applied = 0;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                applied += await CatchUpAsync().ConfigureAwait(false);
                break;
            }
            catch (StoreUnavailableException ex)
            {
                // Without the shared configuration this node cannot serve: wait for Redis.
                Log.FeedReadFailed(_logger, ex);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
        // Only each site's newest model is loaded, not every version the stream ever named.
        var latest = _latestModels!;
        _latestModels = null;
        foreach (var model in latest.Values)
        {
            await AdoptModelAsync(model).ConfigureAwait(false);
        }
        Log.FeedCaughtUp(_logger, Position, applied, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        await _redis.Multiplexer.GetSubscriber().SubscribeAsync(_channel, (_, _) => _wake.Release()).ConfigureAwait(false);
        _follower = Task.Run(FollowAsync, CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _redis.Multiplexer.GetSubscriber().UnsubscribeAsync(_channel).ConfigureAwait(false);
        }
        catch (RedisException)
        {
        }
        await _follower.ConfigureAwait(false);
    }

    public async Task<ApplyOutcome> SubmitAsync(LogRecord record, CancellationToken ct = default)
    {
        var request = Guid.NewGuid().ToString("N");
        var done = new TaskCompletionSource<ApplyOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[request] = done;
        try
        {
            var bytes = _projections.Types.Serialize(record);
            var id = await _redis.CallAsync(db => db.StreamAddAsync(_stream, [new("r", bytes), new("n", _node), new("q", request)])).ConfigureAwait(false);
            await _redis.CallAsync(db => db.PublishAsync(_channel, id)).ConfigureAwait(false);
            _wake.Release();
            return await done.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        }
        finally
        {
            _waiting.TryRemove(request, out _);
        }
    }

    public async Task PublishAsync(RecommendationModel model, CancellationToken ct = default)
    {
        var key = ModelKey(model.Site, model.Version);
        var bytes = ModelRegistry.Serialize(model);
        await _redis.CallAsync(db => db.StringSetAsync(key, bytes)).ConfigureAwait(false);
        await SubmitAsync(new ModelPublishedRecord(model.Site, model.Version), ct).ConfigureAwait(false);
    }

    public async Task<bool> TryLeadAsync(string job, TimeSpan? lease, CancellationToken ct = default)
    {
        RedisKey key = $"{_redis.Prefix}:lead:{job}";
        var won = await _redis.CallAsync(db => db.StringSetAsync(key, _node, lease, When.NotExists)).ConfigureAwait(false);
        if (won)
        {
            return true;
        }
        var holder = await _redis.CallAsync(db => db.StringGetAsync(key)).ConfigureAwait(false);
        if (holder != _node)
        {
            return false;
        }
        if (lease is { } l)
        {
            await _redis.CallAsync(db => db.KeyExpireAsync(key, l)).ConfigureAwait(false);
        }
        return true;
    }

    private RedisKey ModelKey(string site, string version) => $"{_redis.Prefix}:model:{site}:{version}";

    private async Task FollowAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(Poll, _stopping.Token).ConfigureAwait(false);
                await CatchUpAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.FeedReadFailed(_logger, ex);
                try
                {
                    await Task.Delay(Poll, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Reads and applies every entry after the current position; one reader at a time.</summary>
    private async Task<int> CatchUpAsync()
    {
        await _readLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var applied = 0;
            while (true)
            {
                var position = _position;
                var entries = await _redis.CallAsync(db => db.StreamReadAsync(_stream, position, ReadBatch)).ConfigureAwait(false);
                foreach (var entry in entries)
                {
                    await ApplyAsync(entry).ConfigureAwait(false);
                    _position = entry.Id;
                    applied++;
                }
                if (entries.Length < ReadBatch)
                {
                    return applied;
                }
            }
        }
        finally
        {
            _readLock.Release();
        }
    }

    private async Task ApplyAsync(StreamEntry entry)
    {
        ApplyOutcome outcome;
        try
        {
            outcome = _projections.Types.Read((ReadOnlyMemory<byte>)entry["r"]) switch
            {
                ModelPublishedRecord r => await AdoptModelAsync(r).ConfigureAwait(false),
                { } record when _projections.IsShared(record) => await _projections.ApplyAsync(record, 0).ConfigureAwait(false),
                _ => new ApplyOutcome(),
            };
        }
        catch (Exception ex) when (ex is not StoreUnavailableException)
        {
            Log.FeedApplyFailed(_logger, ex, entry.Id.ToString());
            if (_waiting.TryGetValue(entry["q"].ToString(), out var failed))
            {
                failed.TrySetException(ex);
            }
            return;
        }
        if (entry["n"] == _node && _waiting.TryGetValue(entry["q"].ToString(), out var waiter))
        {
            waiter.TrySetResult(outcome);
        }
    }

    private async Task<ApplyOutcome> AdoptModelAsync(ModelPublishedRecord r)
    {
        if (_latestModels is not null)
        {
            _latestModels[r.SiteId] = r;
            return new ApplyOutcome { Applied = 1 };
        }
        if (_models.Current(r.SiteId)?.Version == r.Version)
        {
            return new ApplyOutcome { Applied = 1 };
        }
        var key = ModelKey(r.SiteId, r.Version);
        var bytes = await _redis.CallAsync(db => db.StringGetAsync(key)).ConfigureAwait(false);
        if (bytes.IsNull)
        {
            return new ApplyOutcome(); // replaced since; a later entry names the newer one
        }
        _models.Publish(ModelRegistry.Deserialize((ReadOnlyMemory<byte>)bytes));
        return new ApplyOutcome { Applied = 1 };
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
        _readLock.Dispose();
    }
}

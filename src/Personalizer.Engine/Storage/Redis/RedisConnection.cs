using Personalizer.Engine.Pipeline;
using StackExchange.Redis;

namespace Personalizer.Engine.Storage.Redis;

/// <summary>
/// One multiplexed connection to Redis or a Redis Cluster per process, shared by the profile store and
/// the change feed. It connects in the background and reconnects by itself
/// (<c>AbortOnConnectFail=false</c>), so a node starts and serves fallbacks while Redis is away.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    public RedisConnection(RedisOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = Math.Max(Math.Min(configuration.ConnectTimeout, 5000), options.CommandTimeoutMs);
        configuration.SyncTimeout = options.CommandTimeoutMs;
        configuration.AsyncTimeout = options.CommandTimeoutMs;
        configuration.ConnectRetry = 1;
        configuration.ClientName ??= "personalizer";
        Multiplexer = ConnectionMultiplexer.Connect(configuration);
        Prefix = options.KeyPrefix;
    }

    public ConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    public string Prefix { get; }

    public bool IsConnected => Multiplexer.IsConnected;

    /// <summary>Runs a Redis call, turning connection failures and time-outs into <see cref="StoreUnavailableException"/>.</summary>
    public async Task<T> CallAsync<T>(Func<IDatabase, Task<T>> call)
    {
        if (!Multiplexer.IsConnected)
        {
            throw new StoreUnavailableException("Redis is not connected.");
        }
        try
        {
            return await call(Database).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
            || (ex is RedisServerException server && IsUnavailable(server.Message)))
        {
            throw new StoreUnavailableException("Redis could not be reached: " + ex.Message, ex);
        }
    }

    /// <summary>Server replies that mean "not now", not "wrong": a cluster that is failing over, a loading replica.</summary>
    private static bool IsUnavailable(string message) =>
        message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal) || message.StartsWith("LOADING", StringComparison.Ordinal)
        || message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || message.StartsWith("MASTERDOWN", StringComparison.Ordinal);

    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync().ConfigureAwait(false);
}

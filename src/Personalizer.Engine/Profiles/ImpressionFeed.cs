using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// What decides served, written to the log off the request path: a bounded queue that a background loop
/// drains into one <see cref="ImpressionBatchRecord"/> per site and batch. A decide never waits for it;
/// when the queue is full, impressions are dropped and counted.
/// Order: an event batch first puts every queued impression into the log (<see cref="SubmitQueued"/>), so
/// a click or purchase sent after a decide's answer is applied after the impression it follows, and is
/// attributed to it.
/// </summary>
public sealed partial class ImpressionFeed(Ledger ledger, ILogger<ImpressionFeed> logger) : BackgroundService
{
    private const int MaxBatch = 4096;

    private readonly Channel<(string Site, Impression Impression)> _queue = Channel.CreateBounded<(string, Impression)>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _drain = new();
    private readonly Dictionary<string, List<Impression>> _bySite = new(StringComparer.Ordinal);
    private readonly List<(Task Applied, int Count)> _inFlight = [];
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues a served decision; false (and counted) when the queue is full.</summary>
    public bool Enqueue(string site, Impression impression)
    {
        if (_queue.Writer.TryWrite((site, impression)))
        {
            return true;
        }
        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Puts every queued impression into the log now, ahead of whatever is submitted after this call.</summary>
    public void SubmitQueued()
    {
        lock (_drain)
        {
            if (!_queue.Reader.TryPeek(out _))
            {
                return;
            }
            var taken = 0;
            while (taken < MaxBatch * 4 && _queue.Reader.TryRead(out var item))
            {
                if (!_bySite.TryGetValue(item.Site, out var list))
                {
                    _bySite[item.Site] = list = [];
                }
                list.Add(item.Impression);
                taken++;
                if (list.Count >= MaxBatch)
                {
                    Submit(item.Site, list);
                }
            }
            foreach (var (site, list) in _bySite)
            {
                Submit(site, list);
            }
        }
    }

    private void Submit(string site, List<Impression> list)
    {
        if (list.Count == 0)
        {
            return;
        }
        try
        {
            _inFlight.Add((ledger.SubmitInBackground(new ImpressionBatchRecord(site, [.. list])), list.Count));
        }
        catch (LedgerUnavailableException)
        {
            Interlocked.Add(ref _dropped, list.Count);
        }
        list.Clear();
    }

    /// <summary>On a clean stop, what is still queued goes into the log before the ledger stops (it stops after this).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        SubmitQueued();
        await AwaitInFlightAsync().ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reported = 0L;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                SubmitQueued();
                // While these are written and applied, the next ones gather: batches grow with the load.
                await AwaitInFlightAsync().ConfigureAwait(false);
                var dropped = Dropped;
                if (dropped > reported)
                {
                    ImpressionsDropped(logger, dropped - reported);
                    reported = dropped;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task AwaitInFlightAsync()
    {
        (Task Applied, int Count)[] pending;
        lock (_drain)
        {
            pending = [.. _inFlight];
            _inFlight.Clear();
        }
        foreach (var (applied, count) in pending)
        {
            try
            {
                await applied.ConfigureAwait(false);
            }
            catch (LedgerUnavailableException)
            {
                Interlocked.Add(ref _dropped, count); // stopping: not in the log
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                ApplyFailed(logger, ex, count); // durable in the log: applied again at the next start
            }
        }
    }

    [LoggerMessage(10, LogLevel.Warning, "Impression queue is full; {Dropped} impressions dropped")]
    private static partial void ImpressionsDropped(ILogger logger, long dropped);

    [LoggerMessage(13, LogLevel.Error, "Applying {Count} impressions failed; they stay in the log")]
    private static partial void ApplyFailed(ILogger logger, Exception exception, int count);
}

using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Decisions;

/// <summary>
/// Writes what each decide served to the log off the request path: a bounded queue that a background
/// loop drains. When the queue is full, impressions are dropped and counted; a decide never waits for it.
/// </summary>
public sealed class ImpressionLog(Ledger ledger, ILogger<ImpressionLog> logger) : BackgroundService
{
    private readonly Channel<ImpressionRecord> _queue = Channel.CreateBounded<ImpressionRecord>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    internal void Record(string site, string visitorId, long at, Decision decision)
    {
        var slots = new SlotImpression[decision.Slots.Count];
        for (var i = 0; i < slots.Length; i++)
        {
            var s = decision.Slots[i];
            string[]? items = null;
            if (s.Items is { } list)
            {
                items = new string[list.Count];
                for (var k = 0; k < items.Length; k++)
                {
                    items[k] = list[k].Item.Id;
                }
            }
            slots[i] = new SlotImpression(s.SlotId, s.Variant?.Id, items, s.Source);
        }
        if (!_queue.Writer.TryWrite(new ImpressionRecord(site, decision.DecisionId, visitorId, at, slots)))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reported = 0L;
        try
        {
            await foreach (var record in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                await ledger.AppendAsync(record, stoppingToken).ConfigureAwait(false);
                var dropped = Dropped;
                if (dropped > reported)
                {
                    Log.ImpressionsDropped(logger, dropped - reported);
                    reported = dropped;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

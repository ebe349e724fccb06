using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Storage;

namespace Personalizer.Engine.Decisions;

/// <summary>
/// Writes what each decide served to the log off the request path: a bounded queue that a background
/// loop drains into the log, committing at least every <see cref="CommitEvery"/> so that reports see them.
/// When the queue is full, impressions are dropped and counted; a decide never waits for it.
/// </summary>
public sealed class ImpressionLog(Ledger ledger, TimeProvider time, ILogger<ImpressionLog> logger) : BackgroundService
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

    /// <summary>How long an appended impression may wait for a commit (and so for reports to see it).</summary>
    public static readonly TimeSpan CommitEvery = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reported = 0L;
        var uncommitted = false;
        var lastCommit = time.GetTimestamp();
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                // Wake for new impressions, or after CommitEvery to commit the ones appended since the last group commit.
                var wait = reader.WaitToReadAsync(stoppingToken).AsTask();
                if (uncommitted && await Task.WhenAny(wait, Task.Delay(CommitEvery, time, stoppingToken)).ConfigureAwait(false) != wait)
                {
                    stoppingToken.ThrowIfCancellationRequested();
                }
                else if (!await wait.ConfigureAwait(false))
                {
                    return;
                }
                while (reader.TryRead(out var record))
                {
                    await ledger.AppendAsync(record, stoppingToken).ConfigureAwait(false);
                    uncommitted = true;
                }
                if (uncommitted && time.GetElapsedTime(lastCommit) >= CommitEvery)
                {
                    await ledger.CommitAppendedAsync(stoppingToken).ConfigureAwait(false);
                    uncommitted = false;
                    lastCommit = time.GetTimestamp();
                }
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

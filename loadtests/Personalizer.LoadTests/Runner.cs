using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Personalizer.LoadTests;

/// <summary>Latencies and outcomes of one step: an HdrHistogram of microseconds plus a per-second timeline.</summary>
internal sealed class StepStats(string scenario, string step)
{
    public string Scenario { get; } = scenario;
    public string Step { get; } = step;
    public LongConcurrentHistogram Latency { get; } = new(1, 60_000_000, 3);
    public long Ok;
    public long Failed;
    public double Seconds;
    /// <summary>Per second of the measured run: requests, failures, p99 µs.</summary>
    public ConcurrentDictionary<int, (long Count, long Failed, LongConcurrentHistogram Histogram)> Timeline { get; } = new();

    public long Requests => Ok + Failed;
    public double Rps => Seconds > 0 ? Requests / Seconds : 0;
    public double ErrorRate => Requests > 0 ? (double)Failed / Requests : 0;
    public double Ms(double percentile) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(percentile) / 1000.0;

    public void Record(int second, long micros, bool ok)
    {
        if (ok)
        {
            Interlocked.Increment(ref Ok);
        }
        else
        {
            Interlocked.Increment(ref Failed);
        }
        Latency.RecordValue(Math.Clamp(micros, 1, 60_000_000));
        var slot = Timeline.GetOrAdd(second, _ => (0, 0, new LongConcurrentHistogram(1, 60_000_000, 2)));
        slot.Histogram.RecordValue(Math.Clamp(micros, 1, 60_000_000));
        Timeline.AddOrUpdate(second, slot, (_, s) => (s.Count + 1, s.Failed + (ok ? 0 : 1), s.Histogram));
    }
}

/// <summary>
/// Runs scenarios side by side. Open-model phases schedule request k at start + k/rate and measure
/// from that intended start, so a stalled server shows up as latency instead of as fewer requests
/// (the coordinated-omission fix of wrk2). Requests during the warm-up are sent but not recorded.
/// Every run is bounded in time; targets are checked to be loopback.
/// </summary>
internal sealed class Runner(HttpClient client)
{
    public static void RequireLoopback(Uri target)
    {
        if (!target.IsLoopback)
        {
            throw new ArgumentException($"Load is only ever sent to loopback addresses; '{target.Host}' is not one.");
        }
    }

    public async Task<IReadOnlyList<StepStats>> RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken ct)
    {
        var stats = new List<StepStats>();
        var runs = new List<Task>();
        foreach (var scenario in scenarios)
        {
            var byStep = scenario.Steps.ToDictionary(s => s.Name, s => new StepStats(scenario.Name, s.Name));
            stats.AddRange(byStep.Values);
            runs.Add(RunScenarioAsync(scenario, byStep, ct));
        }
        await Task.WhenAll(runs);
        return stats;
    }

    private async Task RunScenarioAsync(Scenario scenario, Dictionary<string, StepStats> stats, CancellationToken ct)
    {
        var random = new Random(scenario.Name.GetHashCode(StringComparison.Ordinal));
        var total = scenario.Steps.Sum(s => s.Weight);
        var clock = Stopwatch.StartNew();
        var measureFrom = scenario.WarmUp;
        var inflight = new ConcurrentDictionary<Task, byte>();
        var stepsCumulative = scenario.Steps.Select((s, i) => (s, scenario.Steps.Take(i + 1).Sum(x => x.Weight) / total)).ToArray();

        LoadStep Pick(Random r)
        {
            var x = r.NextDouble();
            foreach (var (s, upTo) in stepsCumulative)
            {
                if (x <= upTo)
                {
                    return s;
                }
            }
            return scenario.Steps[^1];
        }

        // Requests still unanswered this long after the load ends are cancelled and count as failures,
        // with their latency: in an open model a straggler must never just vanish from the figures.
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(ct);

        async Task Send(LoadStep step, TimeSpan intended, Random r)
        {
            bool ok;
            try
            {
                ok = await step.Send(client, r, grace.Token);
            }
            catch (Exception)
            {
                ok = false;
            }
            var done = clock.Elapsed;
            if (intended >= measureFrom)
            {
                stats[step.Name].Record((int)(intended - measureFrom).TotalSeconds, (long)((done - intended).TotalMilliseconds * 1000), ok);
            }
        }

        var phaseStart = TimeSpan.Zero;
        foreach (var simulation in scenario.Simulations)
        {
            var phaseEnd = phaseStart + simulation.During;
            switch (simulation)
            {
                case Inject or RampingInject:
                {
                    var (from, to) = simulation is Inject inject ? (inject.Rate, inject.Rate) : (((RampingInject)simulation).From, ((RampingInject)simulation).To);
                    var t = phaseStart;
                    while (t < phaseEnd && !ct.IsCancellationRequested)
                    {
                        var progress = (t - phaseStart) / simulation.During;
                        var rate = Math.Max(0.1, from + (to - from) * progress);
                        var wait = t - clock.Elapsed;
                        if (wait > TimeSpan.FromMilliseconds(1))
                        {
                            await Task.Delay(wait, ct).ConfigureAwait(false);
                        }
                        var task = Send(Pick(random), t, new Random(random.Next()));
                        inflight[task] = 0;
                        _ = task.ContinueWith(x => inflight.TryRemove(x, out _), TaskScheduler.Default);
                        t += TimeSpan.FromSeconds(1 / rate);
                    }
                    break;
                }
                case KeepConstant k:
                {
                    var copies = Enumerable.Range(0, k.Copies).Select(async c =>
                    {
                        var r = new Random(random.Next());
                        while (clock.Elapsed < phaseEnd && !ct.IsCancellationRequested)
                        {
                            await Send(Pick(r), clock.Elapsed, r);
                        }
                    });
                    await Task.WhenAll(copies);
                    break;
                }
            }
            phaseStart = phaseEnd;
        }
        grace.CancelAfter(TimeSpan.FromSeconds(30));
        await Task.WhenAll(inflight.Keys).ContinueWith(_ => { }, TaskScheduler.Default);
        var measured = Math.Max(0.001, (phaseStart - measureFrom).TotalSeconds);
        foreach (var s in stats.Values)
        {
            s.Seconds = measured;
        }
    }
}

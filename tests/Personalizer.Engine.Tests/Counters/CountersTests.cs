using Personalizer.Engine.Configuration;
using Personalizer.Engine.Counters;
using Personalizer.Engine.Events;
using Personalizer.Engine.Experiments;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Tests.Pipeline;
using Personalizer.Testing;
using static Personalizer.Engine.Tests.TestData;

namespace Personalizer.Engine.Tests.Counters;

/// <summary>
/// The counters behind reports and results against a full scan of the same log (<see cref="LogScan"/>):
/// impressions over several days from rules, defaults, recommendations and experiment arms; clicks;
/// purchases inside and outside the attribution windows; goal events; devices merged by identify;
/// visitors who refuse tracking; repeated event ids.
/// </summary>
public sealed class CountersTests : IDisposable
{
    private const string Site = "s";
    private const long Day = 86_400_000;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly ExperimentDefinition Hero = new()
    {
        Id = "hero-test", Slot = "hero", Status = ExperimentStatus.Running, ControlPercent = 20, Goal = "purchase", AttributionHours = 48,
        Arms = [new ExperimentArm { Id = "A", Variant = "a" }, new ExperimentArm { Id = "B", Variant = "b" }],
    };

    private static readonly ExperimentDefinition Offer = new()
    {
        Id = "offer-test", Slot = "offer", Status = ExperimentStatus.Running, Goal = "add_to_cart", AttributionHours = 6,
        Arms = [new ExperimentArm { Id = "X", Variant = "x" }, new ExperimentArm { Id = "Y", Variant = "y" }],
    };

    [Fact]
    public async Task TheReportAndTheResultsEqualAFullLogScan()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await ConfigureAsync(h);
        await new Traffic(seed: 7).SendAsync(h, records: 600);

        await AssertCountersEqualTheScanAsync(h);
    }

    [Fact]
    public async Task CountersStayExactlyOnceAcrossACrashAndReplay()
    {
        var traffic = new Traffic(seed: 11);
        await using (var h = await LedgerHarness.StartAsync(_folder.Path))
        {
            await ConfigureAsync(h);
            await traffic.SendAsync(h, records: 300);
            // Records applied while the checkpoint completes may or may not be in it: replay must count each once either way.
            var checkpoint = h.Ledger.CheckpointAsync();
            await traffic.SendAsync(h, records: 300);
            Assert.True(await checkpoint);
            await traffic.SendAsync(h, records: 100); // after the checkpoint: replayed after the crash
            await h.CrashAsync();
        }
        await using var again = await LedgerHarness.StartAsync(_folder.Path);
        await traffic.SendAsync(again, records: 100);

        await AssertCountersEqualTheScanAsync(again);
    }

    [Fact]
    public async Task AClickOrPurchaseBeforeAnyImpressionCountsForNothing()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        await h.Ledger.SubmitAsync(new EventBatchRecord(Site, [Click("c1", "v", T0, "hero", "a"), Purchase("p1", "v", T0, 10)]));
        await h.Ledger.SubmitAsync(new ImpressionBatchRecord(Site, [Shown("v", T0 + 1000, ("hero", "a", "default"))]));

        var report = await new SlotReport(h.Counters).ComputeAsync(Site, T0, T0 + 1, ReportGranularity.Total);
        var hero = Assert.Single(report.Slots);
        Assert.Equal((1, 0, 0), (hero.Impressions, hero.Clicks, hero.Conversions));
    }

    [Fact]
    public async Task ADailySeriesComesFromOneCall()
    {
        await using var h = await LedgerHarness.StartAsync(_folder.Path);
        for (var d = 0; d < 3; d++)
        {
            await h.Ledger.SubmitAsync(new ImpressionBatchRecord(Site, [Shown("v", T0 + (d * Day), ("hero", "a", "default")), Shown("w", T0 + (d * Day), ("hero", "a", "default"))]));
        }
        await h.Ledger.SubmitAsync(new EventBatchRecord(Site, [Purchase("p", "v", T0 + (2 * Day) + 60_000, 12.5)]));

        var first = CounterKeys.Day(T0) - 1;
        var report = await new SlotReport(h.Counters).ComputeAsync(Site, first * Day, (first + 4) * Day, ReportGranularity.Day);
        var hero = Assert.Single(report.Slots);
        Assert.Equal([0L, 2, 2, 2], hero.Days!.Select(d => d.Impressions));
        Assert.Equal([0L, 0, 0, 1], hero.Days!.Select(d => d.Conversions));
        Assert.Equal(12.5, Assert.Single(hero.Rows).Days![3].Revenue);
        Assert.Equal(6, hero.Impressions);
    }

    private static async Task ConfigureAsync(LedgerHarness h)
    {
        foreach (var experiment in new[] { Hero, Offer })
        {
            var change = new ConfigChange { Kind = ConfigChangeKind.PutExperiment, Id = experiment.Id, Experiment = experiment, At = T0 - Day, Author = "test" };
            await h.Ledger.SubmitAsync(new ConfigChangeRecord(Site, change));
        }
    }

    private static async Task AssertCountersEqualTheScanAsync(LedgerHarness h)
    {
        var experiments = h.Configuration.Current(Site).Experiments;
        var scan = LogScan.Of(h.Log, h.Registry.Types, Site, experiments);
        Assert.True(scan.Slots.Count > 20, "the traffic should reach many rows");

        var report = await new SlotReport(h.Counters).ComputeAsync(Site, T0 - Day, T0 + (30 * Day), ReportGranularity.Day);
        var fromCounters = new Dictionary<(string, string, string, long), (long, long, long, double)>();
        foreach (var slot in report.Slots)
        {
            foreach (var row in slot.Rows)
            {
                for (var d = 0; d < row.Days!.Count; d++)
                {
                    var day = row.Days[d];
                    if (day.Impressions + day.Clicks + day.Conversions > 0 || day.Revenue != 0)
                    {
                        fromCounters[(slot.Slot, row.Variant, row.Source, CounterKeys.Day(report.From) + d)] = (day.Impressions, day.Clicks, day.Conversions, day.Revenue);
                    }
                }
            }
        }
        var expected = scan.Slots.Where(kv => kv.Value.Impressions + kv.Value.Clicks + kv.Value.Conversions > 0)
            .ToDictionary(kv => kv.Key, kv => (kv.Value.Impressions, kv.Value.Clicks, kv.Value.Conversions, Math.Round(kv.Value.Revenue, 2)));
        Assert.Equal(expected.OrderBy(kv => kv.Key).ToList(), fromCounters.OrderBy(kv => kv.Key).ToList());
        Assert.True(expected.Values.Sum(v => v.Clicks) > 0 && expected.Values.Sum(v => v.Conversions) > 0);

        foreach (var experiment in experiments.Values)
        {
            var results = await new ExperimentResults(h.Counters).ComputeAsync(Site, experiment, T0 + (10 * Day));
            foreach (var arm in results.Arms)
            {
                var want = scan.Arms.GetValueOrDefault((experiment.Id, arm.Arm));
                Assert.Equal((want.Exposed, want.Converted, Math.Round(want.Revenue, 2)), (arm.Exposures, arm.Conversions, Math.Round(arm.Revenue, 2)));
                Assert.True(want.Exposed > 0, $"{experiment.Id}/{arm.Arm} should have exposures");
            }
            Assert.True(results.Arms.Sum(a => a.Conversions) > 0, $"{experiment.Id} should have conversions");
        }
    }

    /// <summary>Seeded random traffic: each call continues the same story (time moves on, visitors come back).</summary>
    private sealed class Traffic(int seed)
    {
        private readonly Random _random = new(seed);
        private long _now = T0;
        private int _ids;

        private static readonly (string Slot, string Variant, string Source)[] Choices =
        [
            ("hero", "generic", "default"), ("hero", "vip", "rule:vip"), ("hero", "a", "experiment:hero-test/A"),
            ("hero", "b", "experiment:hero-test/B"), ("hero", "generic", "experiment:hero-test/control"),
            ("recs", null!, "recs:20261101T000000Z"), ("recs", null!, "recs:20261102T000000Z"), ("recs", null!, "trending"),
            ("offer", "x", "experiment:offer-test/X"), ("offer", "y", "experiment:offer-test/Y"), ("offer", "none", "fallback"),
        ];

        public async Task SendAsync(LedgerHarness h, int records)
        {
            for (var r = 0; r < records; r++)
            {
                _now += _random.Next(1, 40) * 60_000L; // about five days per 600 records
                if (_random.NextDouble() < 0.45)
                {
                    var impressions = new Impression[_random.Next(1, 8)];
                    for (var i = 0; i < impressions.Length; i++)
                    {
                        var slots = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => Choices[_random.Next(Choices.Length)]).DistinctBy(c => c.Slot).ToArray();
                        impressions[i] = Shown(Visitor(), _now - _random.Next(0, 5000), slots);
                    }
                    await h.Ledger.SubmitAsync(new ImpressionBatchRecord(Site, impressions));
                }
                else if (_random.NextDouble() < 0.04)
                {
                    var consent = _random.NextDouble() < 0.6 ? TrackingConsent.Denied : TrackingConsent.Granted;
                    await h.Ledger.SubmitAsync(new PreferencesRecord(Site, Visitor(), new VisitorPreferences { Tracking = consent }));
                }
                else
                {
                    var events = new TrackedEvent[_random.Next(1, 6)];
                    for (var i = 0; i < events.Length; i++)
                    {
                        events[i] = Next();
                    }
                    await h.Ledger.SubmitAsync(new EventBatchRecord(Site, events));
                }
            }
        }

        private string Visitor() => $"v-{_random.Next(60)}";

        private TrackedEvent Next()
        {
            var visitor = Visitor();
            var at = _now + _random.Next(-3000, 3000);
            var id = _random.NextDouble() < 0.05 && _ids > 0 ? $"e-{_random.Next(_ids)}" : $"e-{_ids++}"; // now and then a retry
            return _random.Next(10) switch
            {
                < 3 => Click(id, visitor, at, Choices[_random.Next(Choices.Length)].Slot, _random.NextDouble() < 0.3 ? "clicked" : null),
                < 5 => Purchase(id, visitor, at, Math.Round(5 + (_random.NextDouble() * 95), 2)),
                < 7 => Event(id, EventType.AddToCart, visitor, at, "i-1"),
                < 8 => new TrackedEvent { EventId = id, Type = EventType.Identify, VisitorId = visitor, Timestamp = at, CustomerId = $"c-{_random.Next(20)}" },
                _ => Event(id, EventType.PageView, visitor, at),
            };
        }
    }

    private static Impression Shown(string visitor, long at, params (string Slot, string Variant, string Source)[] slots) =>
        new($"d-{visitor}-{at}", visitor, at, [.. slots.Select(s => new SlotImpression(s.Slot, s.Variant, s.Variant is null ? ["i-1", "i-2"] : null, s.Source))]);

    private static TrackedEvent Click(string id, string visitor, long at, string slot, string? variant) =>
        new() { EventId = id, Type = EventType.SlotClick, VisitorId = visitor, Timestamp = at, SlotId = slot, Variant = variant };

    private static TrackedEvent Purchase(string id, string visitor, long at, double revenue) => new()
    {
        EventId = id, Type = EventType.Purchase, VisitorId = visitor, Timestamp = at, OrderId = "o-" + id, Revenue = revenue,
        Lines = [new OrderLine { ItemId = "i-1", Quantity = 1, Price = revenue }],
    };
}

using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Sites;

namespace Personalizer.LoadTests;

/// <summary>
/// Fills a data folder straight through the engine (no HTTP): a catalogue, the load slots, one
/// visitor profile per id with a few product views in one category, and a trained model.
/// </summary>
internal static class Seeder
{
    public const string Site = "demo";
    public static readonly string[] Categories = [.. Enumerable.Range(0, 20).Select(i => $"cat{i:D2}")];

    public static async Task RunAsync(string dataPath, int profiles, int items, int viewsPerVisitor, int memoryMb, TextWriter log, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddPersonalizer(o =>
        {
            o.DataPath = dataPath;
            o.SeedDemo = false;
            o.CheckpointIntervalSeconds = 0;
            o.Faster.MemoryMb = memoryMb;
            o.Recommendations.TrainIntervalMinutes = 0;
            o.Sites[Site] = new SiteOptions { SiteKeys = ["demo-site-key"], AdminKeys = ["demo-admin-key"] };
        });
        using var host = builder.Build();
        await host.StartAsync(ct);
        var watch = Stopwatch.StartNew();

        var catalog = host.Services.GetRequiredService<CatalogService>();
        var all = Enumerable.Range(0, items).Select(i => new CatalogItem
        {
            Id = $"item-{i}",
            Title = $"Item {i}",
            Categories = [Categories[i % Categories.Length]],
            Price = 5 + i % 200,
            Currency = "EUR",
            InStock = i % 50 != 0,
            Url = $"/p/item-{i}",
        }).ToArray();
        foreach (var chunk in all.Chunk(1000))
        {
            await catalog.UpsertAsync(Site, chunk, ct);
        }
        var configuration = host.Services.GetRequiredService<ConfigurationService>();
        foreach (var slot in LoadSlots())
        {
            await configuration.PutSlotAsync(Site, slot, "load-seeder", ct);
        }
        log.WriteLine($"catalogue of {items} items and 3 slots in {watch.Elapsed.TotalSeconds:F1} s");

        var events = host.Services.GetRequiredService<EventService>();
        var random = new Random(42);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = new List<TrackedEvent>(500);
        var pending = new List<Task>();
        for (var v = 0; v < profiles; v++)
        {
            var category = v % Categories.Length;
            for (var k = 0; k < viewsPerVisitor; k++)
            {
                var item = (random.Next(items / Categories.Length) * Categories.Length) + category;
                batch.Add(new TrackedEvent
                {
                    EventId = string.Create(CultureInfo.InvariantCulture, $"seed-{v}-{k}"),
                    Type = EventType.ProductView,
                    VisitorId = string.Create(CultureInfo.InvariantCulture, $"lv-{v}"),
                    ItemId = $"item-{item}",
                    Timestamp = now - random.Next(86_400_000),
                });
            }
            if (batch.Count >= 480)
            {
                pending.Add(events.IngestAsync(Site, [.. batch], ct));
                batch.Clear();
                if (pending.Count >= 8)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                }
            }
            if (v > 0 && v % 200_000 == 0)
            {
                log.WriteLine($"{v} profiles after {watch.Elapsed.TotalSeconds:F1} s");
            }
        }
        pending.Add(events.IngestAsync(Site, [.. batch], ct));
        await Task.WhenAll(pending);
        log.WriteLine($"{profiles} profiles ({profiles * viewsPerVisitor} events) after {watch.Elapsed.TotalSeconds:F1} s");

        var model = await host.Services.GetRequiredService<ModelTraining>().TrainAsync(Site, ct);
        log.WriteLine($"model {model?.Version} trained on {model?.Interactions} interactions in {model?.TrainingSeconds} s; total {watch.Elapsed.TotalSeconds:F1} s");
        // Steady state, as a shop's service has it: the seeded events archived and out of the log, the profile log compacted.
        await host.Services.GetRequiredService<Ledger>().CheckpointAsync(ct);
        var pass = await host.Services.GetRequiredService<Archiver>().RunOnceAsync(ct);
        log.WriteLine($"archived {pass.Rows} events; profile log compacted by {pass.Compacted >> 20} MiB; total {watch.Elapsed.TotalSeconds:F1} s");
        await host.StopAsync(ct);
        log.WriteLine($"checkpointed; the data folder is ready: {dataPath}");
    }

    public static SlotDefinition[] LoadSlots() =>
    [
        new SlotDefinition
        {
            Id = "home-hero", Kind = SlotKind.Content, DefaultVariant = "generic",
            Variants = [new SlotVariant { Id = "generic", ContentJson = """{"title":"New season"}""" }, new SlotVariant { Id = "vip", ContentJson = """{"title":"Welcome back"}""", Tags = ["vip"] }],
        },
        new SlotDefinition { Id = "home-recs", Kind = SlotKind.Recommendations, Strategy = RecommendationStrategies.Personalized, Count = 10 },
        new SlotDefinition
        {
            Id = "cart-offer", Kind = SlotKind.Content, DefaultVariant = "free-shipping",
            Variants = [new SlotVariant { Id = "free-shipping", ContentJson = """{"title":"Free shipping over 50 EUR"}""" }],
        },
    ];
}

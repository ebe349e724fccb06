using System.Globalization;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Sites;

namespace Personalizer.Engine.Demo;

/// <summary>
/// On an empty data folder, gives the <c>demo</c> site a catalogue of a few hundred sports items in
/// eight categories and the four slots of the demo storefront. Deterministic: the same every time.
/// </summary>
public sealed class DemoSeeder(CatalogService catalog, ConfigurationService configuration, IChangeFeed changes, ApiKeyRegistry sites, ILogger<DemoSeeder> logger)
{
    public const string Site = "demo";
    public const string Author = "demo-seed";

    public static readonly string[] Categories = ["running", "hiking", "yoga", "cycling", "swimming", "camping", "fitness", "apparel"];

    private static readonly string[] Adjectives = ["Swift", "Trail", "Alpine", "Urban", "Pro", "Classic", "Light", "Storm", "Summit", "Flex"];

    private static readonly Dictionary<string, string[]> Nouns = new()
    {
        ["running"] = ["Running Shoe", "Race Singlet", "Running Tights", "Hydration Vest", "Running Cap"],
        ["hiking"] = ["Hiking Boot", "Trekking Poles", "Daypack", "Hiking Socks", "Trail Map Case"],
        ["yoga"] = ["Yoga Mat", "Yoga Block", "Yoga Strap", "Meditation Cushion", "Yoga Leggings"],
        ["cycling"] = ["Cycling Helmet", "Bike Light", "Cycling Jersey", "Bike Lock", "Cycling Gloves"],
        ["swimming"] = ["Swim Goggles", "Swim Cap", "Swimsuit", "Kickboard", "Pull Buoy"],
        ["camping"] = ["Tent", "Sleeping Bag", "Camp Stove", "Headlamp", "Camping Chair"],
        ["fitness"] = ["Kettlebell", "Resistance Band", "Jump Rope", "Foam Roller", "Dumbbell Set"],
        ["apparel"] = ["Rain Jacket", "Fleece", "Base Layer", "Softshell Pants", "Beanie"],
    };

    public async Task<bool> SeedIfEmptyAsync(CancellationToken ct = default)
    {
        if (!sites.SiteIds.Contains(Site) || catalog.Snapshot(Site).All.Length > 0 || configuration.Current(Site).Version > 0)
        {
            return false;
        }
        if (!await changes.TryLeadAsync("seed-demo", lease: null, ct).ConfigureAwait(false))
        {
            return false; // another node of a shared deployment seeds it
        }
        var items = Items();
        await catalog.UpsertAsync(Site, items, ct).ConfigureAwait(false);
        var slots = Slots();
        foreach (var slot in slots)
        {
            await configuration.PutSlotAsync(Site, slot, Author, ct).ConfigureAwait(false);
        }
        foreach (var rule in Rules())
        {
            await configuration.PutRuleAsync(Site, rule, Author, ct).ConfigureAwait(false);
        }
        Log.DemoSeeded(logger, Site, items.Length, slots.Length);
        return true;
    }

    public static CatalogItem[] Items()
    {
        var random = new Random(20261122);
        var items = new List<CatalogItem>();
        foreach (var category in Categories)
        {
            for (var i = 0; i < 40; i++)
            {
                var noun = Nouns[category][i % 5];
                var adjective = Adjectives[(i / 5 + Array.IndexOf(Categories, category)) % Adjectives.Length];
                var id = string.Create(CultureInfo.InvariantCulture, $"sku-{category[..3]}-{i + 1:D3}");
                items.Add(new CatalogItem
                {
                    Id = id,
                    Title = $"{adjective} {noun} {i / 10 + 1}",
                    Categories = [category],
                    Brand = adjective,
                    Price = Math.Round(9.9 + random.NextDouble() * 240, 2),
                    Currency = "EUR",
                    InStock = random.NextDouble() > 0.05,
                    Tags = i % 7 == 0 ? ["new"] : i % 11 == 0 ? ["sale"] : [],
                    Url = $"/demo/product.html?id={id}",
                    ImageUrl = $"/demo/img/items/{id}.svg", // drawn by tools/demo-images.py
                });
            }
        }
        return [.. items];
    }

    public static SlotDefinition[] Slots() =>
    [
        new SlotDefinition
        {
            Id = "home-hero",
            Kind = SlotKind.Content,
            Description = "The banner at the top of the home page",
            DefaultVariant = "generic",
            Variants =
            [
                Variant("generic", """{"title":"New season, new trails","body":"Gear for every sport, picked for you.","cta":"Shop now","link":"/demo/"}"""),
                Variant("vip-banner", """{"title":"Welcome back","body":"Members get free express shipping this week.","cta":"See member offers","link":"/demo/"}""", "vip", "lifecycle:loyal", "rfm:champions", "rfm:loyal"),
                Variant("welcome-back", """{"title":"We missed you","body":"Here is 15% off your next order: COMEBACK15","cta":"Use my code","link":"/demo/"}""", "lapsed", "lifecycle:lapsed", "lifecycle:at_risk"),
                Variant("running-hero", """{"title":"Run further","body":"Shoes and gear for your next race.","cta":"Running gear","link":"/demo/"}""", "running", "affinity:running", "interest:running"),
            ],
        },
        new SlotDefinition
        {
            Id = "home-recs",
            Kind = SlotKind.Recommendations,
            Description = "Recommended for you, on the home page",
            Strategy = RecommendationStrategies.Personalized,
            Count = 8,
            Filters = new RecommendationFilters { ExcludePurchased = true, InStockOnly = true, MaxPerCategory = 3 },
        },
        new SlotDefinition
        {
            Id = "pdp-similar",
            Kind = SlotKind.Recommendations,
            Description = "Similar items on a product page",
            Strategy = RecommendationStrategies.Similar,
            Count = 6,
            Filters = new RecommendationFilters { ExcludePurchased = true, InStockOnly = true },
        },
        new SlotDefinition
        {
            Id = "shop-grid",
            Kind = SlotKind.Recommendations,
            Description = "The item grid of the category and search pages (steered by the rules category-page and search-page)",
            Strategy = RecommendationStrategies.Personalized,
            Count = 20,
            Filters = new RecommendationFilters { ExcludePurchased = false, InStockOnly = false },
        },
        new SlotDefinition
        {
            Id = "cart-offer",
            Kind = SlotKind.Content,
            Description = "The offer box in the cart",
            DefaultVariant = "free-shipping",
            Variants =
            [
                Variant("free-shipping", """{"title":"Free shipping over 50 EUR","body":"Add a little more to ship for free."}"""),
                Variant("bundle", """{"title":"Complete your kit","body":"Save 10% when you buy three items."}""", "cart", "cart:nonempty"),
            ],
        },
    ];

    /// <summary>
    /// The storefront's category and search pages are one recommendations slot steered by item
    /// conditions on what the page says: its category, or the search query.
    /// </summary>
    public static RuleDefinition[] Rules() =>
    [
        new RuleDefinition
        {
            Id = "search-page", Slot = "shop-grid", Priority = 20, When = "context.q != ''",
            Then = new RuleAction { Items = "item.title contains context.q or item.category contains context.q or item.brand contains context.q" },
            Description = "The search page lists the items matching the query, best for the visitor first",
        },
        new RuleDefinition
        {
            Id = "category-page", Slot = "shop-grid", Priority = 10, When = "context.category != ''",
            Then = new RuleAction { Items = "item.category == context.category" },
            Description = "A category page lists that category's items, best for the visitor first",
        },
    ];

    private static SlotVariant Variant(string id, string json, params string[] tags) => new() { Id = id, ContentJson = json, Tags = tags };
}

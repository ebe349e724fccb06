using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Personalizer.Cli;

/// <summary>
/// <c>demo shoppers</c>: simulated shoppers on the demo storefront of a running service, through its
/// public API: each decides the home page's slots, sometimes clicks the hero or a recommended item,
/// views it, and sometimes buys. Buying is likelier after the "welcome-back" hero (20% relative), so an
/// experiment on the hero has a true effect to find. <c>reports slots</c>: the slot report as a table.
/// </summary>
internal static class DemoCommands
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "the service", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var siteKey = new Option<string>("--site-key") { DefaultValueFactory = _ => "demo-site-key" };
        var visitors = new Option<int>("--visitors") { DefaultValueFactory = _ => 2000 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var shoppers = new Command("shoppers", "Simulate shoppers on the demo site through the HTTP API.") { url, siteKey, visitors, seed };
        shoppers.SetAction((parse, ct) => ShoppersAsync(new Uri(parse.GetValue(url)!), parse.GetValue(siteKey)!, parse.GetValue(visitors), parse.GetValue(seed), ct));
        var demo = new Command("demo", "Traffic for the demo site.");
        demo.Subcommands.Add(shoppers);
        return demo;
    }

    public static Command CreateReports()
    {
        var url = new Option<string>("--url") { Description = "the service", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var adminKey = new Option<string>("--admin-key") { DefaultValueFactory = _ => "demo-admin-key" };
        var from = new Option<string?>("--from") { Description = "unix ms or ISO 8601 (default: 7 days before --to)" };
        var to = new Option<string?>("--to") { Description = "unix ms or ISO 8601 (default: now)" };
        var slots = new Command("slots", "Impressions, clicks, CTR, conversions and revenue per slot, variant and source.") { url, adminKey, from, to };
        slots.SetAction((parse, ct) => SlotsAsync(new Uri(parse.GetValue(url)!), parse.GetValue(adminKey)!, parse.GetValue(from), parse.GetValue(to), ct));
        var reports = new Command("reports", "Reports of a running service.");
        reports.Subcommands.Add(slots);
        return reports;
    }

    private static HttpClient Client(Uri url, string key)
    {
        var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static async Task<int> ShoppersAsync(Uri url, string key, int visitors, int seed, CancellationToken ct)
    {
        using var client = Client(url, key);
        var random = new Random(seed);
        int clicks = 0, purchases = 0;
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < visitors; i++)
        {
            var visitor = $"shopper-{seed}-{i}";
            using var decided = await client.PostAsync("/v1/decide", Json($$"""{"visitorId":"{{visitor}}","slots":["home-hero","home-recs"]}"""), ct);
            if (!decided.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"demo shoppers: decide answered {(int)decided.StatusCode}: {await decided.Content.ReadAsStringAsync(ct)}");
                return 1;
            }
            using var decision = JsonDocument.Parse(await decided.Content.ReadAsStringAsync(ct));
            var slots = decision.RootElement.GetProperty("slots");
            var hero = slots.GetProperty("home-hero").TryGetProperty("variant", out var v) ? v.GetString() : null;
            var items = slots.GetProperty("home-recs").GetProperty("items").EnumerateArray().Select(x => x.GetProperty("itemId").GetString()!).ToArray();
            var events = new List<string>();
            var n = 0;
            string Id() => $"{runId}-{visitor}-{n++}";
            if (random.NextDouble() < 0.12)
            {
                events.Add($$"""{"eventId":"{{Id()}}","type":"slot_click","visitorId":"{{visitor}}","slotId":"home-hero","variant":"{{hero}}"}""");
            }
            var item = items.Length > 0 ? items[random.Next(items.Length)] : null;
            if (item is not null && random.NextDouble() < 0.08)
            {
                events.Add($$"""{"eventId":"{{Id()}}","type":"slot_click","visitorId":"{{visitor}}","slotId":"home-recs"}""");
                events.Add($$"""{"eventId":"{{Id()}}","type":"product_view","visitorId":"{{visitor}}","itemId":"{{item}}"}""");
            }
            var buy = hero == "welcome-back" ? 0.06 : 0.05;
            if (item is not null && random.NextDouble() < buy)
            {
                events.Add($$"""{"eventId":"{{Id()}}","type":"purchase","visitorId":"{{visitor}}","orderId":"{{Id()}}","lines":[{"itemId":"{{item}}","quantity":1,"price":{{(20 + random.Next(80)).ToString(CultureInfo.InvariantCulture)}}}]}""");
                purchases++;
            }
            clicks += events.Count(e => e.Contains("slot_click", StringComparison.Ordinal));
            if (events.Count > 0)
            {
                using var sent = await client.PostAsync("/v1/events", Json($$"""{"events":[{{string.Join(',', events)}}]}"""), ct);
                if (!sent.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine($"demo shoppers: events answered {(int)sent.StatusCode}: {await sent.Content.ReadAsStringAsync(ct)}");
                    return 1;
                }
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{visitors} shoppers: {clicks} slot clicks, {purchases} purchases"));
        return 0;
    }

    private static async Task<int> SlotsAsync(Uri url, string key, string? from, string? to, CancellationToken ct)
    {
        using var client = Client(url, key);
        var query = string.Join('&', new[] { ("from", from), ("to", to) }.Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        using var response = await client.GetAsync("/v1/reports/slots" + (query.Length > 0 ? "?" + query : ""), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"reports slots: {(int)response.StatusCode} {body}");
            return 1;
        }
        using var report = JsonDocument.Parse(body);
        Console.WriteLine("| slot | variant | source | impressions | clicks | CTR | conversions | revenue |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var slot in report.RootElement.GetProperty("slots").EnumerateArray())
        {
            var id = slot.GetProperty("slot").GetString();
            foreach (var row in slot.GetProperty("rows").EnumerateArray())
            {
                Console.WriteLine(Row(id, row.GetProperty("variant").GetString(), row.GetProperty("source").GetString(), row));
            }
            Console.WriteLine(Row($"**{id}**", "all", "all", slot));
        }
        return 0;
    }

    private static string Row(string? slot, string? variant, string? source, JsonElement e) => string.Create(CultureInfo.InvariantCulture,
        $"| {slot} | {variant} | {source} | {e.GetProperty("impressions").GetInt64()} | {e.GetProperty("clicks").GetInt64()} | {e.GetProperty("ctr").GetDouble():P1} | {e.GetProperty("conversions").GetInt64()} | {e.GetProperty("revenue").GetDouble():F2} |");
}

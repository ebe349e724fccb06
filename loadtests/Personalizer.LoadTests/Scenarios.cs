using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Personalizer.LoadTests;

/// <summary>The built-in scenarios, over a Zipf-like visitor population (ranks log-uniform, s ≈ 1).</summary>
internal static class Scenarios
{
    public static readonly string[] Names = ["storefront", "shop", "decide", "events", "recommendations", "baseline"];

    public sealed record Settings(string SiteKey, int Visitors, int Items, double Rate, TimeSpan Duration, TimeSpan WarmUp);

    public static Scenario Create(string name, Settings s)
    {
        LoadSimulation[] load = [new Inject(s.Rate, s.WarmUp + s.Duration)];
        return name switch
        {
            "baseline" => new Scenario(name, [Baseline()], load, s.WarmUp),
            "decide" => new Scenario(name, [Decide(s)], load, s.WarmUp),
            "events" => new Scenario(name, [Events(s, 20)], load, s.WarmUp),
            "recommendations" => new Scenario(name, [Recommendations(s)], load, s.WarmUp),
            // History for reports: ten decides to one purchase, visitors drawn from the same population.
            "shop" => new Scenario(name, [Decide(s) with { Weight = 10 }, Purchase(s) with { Weight = 1 }], load, s.WarmUp),
            "storefront" => new Scenario(name, [Decide(s) with { Weight = 0.7 }, Events(s, 5) with { Weight = 0.2 }, Recommendations(s) with { Weight = 0.1 }], load, s.WarmUp),
            _ => throw new ArgumentException($"unknown scenario '{name}'; expected one of: {string.Join(", ", Names)}"),
        };
    }

    /// <summary>Visitor ranks drawn log-uniformly: the head visits far more often than the tail.</summary>
    public static int Visitor(Random r, int population) => Math.Min(population - 1, (int)Math.Pow(population, r.NextDouble()) - 1);

    private static LoadStep Baseline() => new("baseline", 1, async (client, _, ct) =>
    {
        using var response = await client.GetAsync("/sdk/version", ct);
        return response.IsSuccessStatusCode;
    });

    private static LoadStep Decide(Settings s) => new("decide", 1, async (client, r, ct) =>
    {
        var body = string.Create(CultureInfo.InvariantCulture,
            $$"""{"visitorId":"lv-{{Visitor(r, s.Visitors)}}","context":{"url":"https://shop.example/","device":"{{(r.Next(2) == 0 ? "mobile" : "desktop")}}"},"slots":["home-hero","home-recs","cart-offer"]}""");
        using var content = Json(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/decide") { Content = content };
        request.Headers.Add("X-Api-Key", s.SiteKey);
        using var response = await client.SendAsync(request, ct);
        return response.IsSuccessStatusCode;
    });

    private static LoadStep Events(Settings s, int batch) => new("events", 1, async (client, r, ct) =>
    {
        var sb = new StringBuilder("{\"events\":[");
        for (var i = 0; i < batch; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $$"""{{(i > 0 ? "," : "")}}{"eventId":"{{Guid.NewGuid():N}}","type":"product_view","visitorId":"lv-{{Visitor(r, s.Visitors)}}","itemId":"item-{{r.Next(s.Items)}}"}""");
        }
        sb.Append("]}");
        using var content = Json(sb.ToString());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = content };
        request.Headers.Add("X-Api-Key", s.SiteKey);
        using var response = await client.SendAsync(request, ct);
        return response.IsSuccessStatusCode;
    });

    private static LoadStep Purchase(Settings s) => new("purchase", 1, async (client, r, ct) =>
    {
        var price = 10 + r.Next(190);
        var body = string.Create(CultureInfo.InvariantCulture,
            $$"""{"events":[{"eventId":"{{Guid.NewGuid():N}}","type":"purchase","visitorId":"lv-{{Visitor(r, s.Visitors)}}","orderId":"{{Guid.NewGuid():N}}","lines":[{"itemId":"item-{{r.Next(s.Items)}}","quantity":1,"price":{{price}}}]}]}""");
        using var content = Json(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = content };
        request.Headers.Add("X-Api-Key", s.SiteKey);
        using var response = await client.SendAsync(request, ct);
        return response.IsSuccessStatusCode;
    });

    private static LoadStep Recommendations(Settings s) => new("recommendations", 1, async (client, r, ct) =>
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/recommendations/lv-{Visitor(r, s.Visitors)}?strategy=personalized&count=10");
        request.Headers.Add("X-Api-Key", s.SiteKey);
        using var response = await client.SendAsync(request, ct);
        return response.IsSuccessStatusCode;
    });

    private static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Cli;

/// <summary>
/// <c>recs evaluate --http URL</c>: the split replayed through a running service as a new user would do
/// it. The catalogue is built from <c>u.item</c> with its genre names when given, the training part is
/// imported as purchases (<c>POST /v1/events/import</c>), a model is trained (<c>POST /v1/models/train</c>),
/// and each user's list is asked of <c>GET /v1/recommendations/{user}?strategy=personalized&amp;count=K</c>.
/// The figures are computed exactly as the offline ones, plus how many listed items the user had bought.
/// </summary>
internal static class HttpReplay
{
    public static async Task<(EvaluationResult Result, int RepeatUsers, int RepeatItems)> RunAsync(
        OfflineEvaluation split, Uri url, string adminKey, string siteKey, FileInfo? items, int k, CancellationToken ct)
    {
        using var admin = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(10) };
        admin.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
        using var site = new HttpClient { BaseAddress = url };
        site.DefaultRequestHeaders.Add("X-Api-Key", siteKey);

        await PutCatalogAsync(admin, split, items, ct);
        var events = ServedEvaluation.PurchaseEvents(split);
        var ndjson = new StringBuilder();
        foreach (var e in events)
        {
            var line = new JsonObject
            {
                ["eventId"] = "ml-" + e.EventId,
                ["type"] = "purchase",
                ["visitorId"] = "u" + e.VisitorId,
                ["timestamp"] = DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp).ToString("O", CultureInfo.InvariantCulture),
                ["orderId"] = e.OrderId,
                ["lines"] = new JsonArray(new JsonObject { ["itemId"] = "m" + e.Lines![0].ItemId, ["quantity"] = 1, ["price"] = 1 }),
                ["revenue"] = 1,
                ["currency"] = "EUR",
            };
            ndjson.Append(line.ToJsonString()).Append('\n');
        }
        Console.Error.WriteLine($"importing {events.Count} purchases");
        using (var content = new StringContent(ndjson.ToString(), Encoding.UTF8, "application/x-ndjson"))
        {
            (await admin.PostAsync("/v1/events/import", content, ct)).EnsureSuccessStatusCode();
        }
        Console.Error.WriteLine("training");
        (await admin.PostAsync("/v1/models/train?wait=true", null, ct)).EnsureSuccessStatusCode();

        var itemIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < split.ItemCount; i++)
        {
            itemIndex["m" + split.ItemIds[i]] = i;
        }
        var bought = new HashSet<int>[split.UserCount];
        foreach (var (u, i, _) in split.TrainPairs)
        {
            (bought[u] ??= []).Add(i);
        }
        var lists = new int[]?[split.UserCount];
        int repeatUsers = 0, repeatItems = 0;
        for (var u = 0; u < split.UserCount; u++)
        {
            using var answer = await site.GetAsync($"/v1/recommendations/u{Uri.EscapeDataString(split.UserIds[u])}?strategy=personalized&count={k}", ct);
            answer.EnsureSuccessStatusCode();
            var body = await answer.Content.ReadFromJsonAsync<JsonElement>(ct);
            var list = new List<int>();
            foreach (var item in body.GetProperty("items").EnumerateArray())
            {
                list.Add(itemIndex.TryGetValue(item.GetProperty("itemId").GetString()!, out var index) ? index : -1);
            }
            lists[u] = [.. list];
            var repeats = list.Count(i => i >= 0 && bought[u]?.Contains(i) == true);
            repeatItems += repeats;
            repeatUsers += repeats > 0 ? 1 : 0;
        }
        var result = split.EvaluateLists("http", lists);
        return (result, repeatUsers, repeatItems);
    }

    private static async Task PutCatalogAsync(HttpClient admin, OfflineEvaluation split, FileInfo? items, CancellationToken ct)
    {
        var genres = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        if (items is not null)
        {
            var latin1 = Encoding.Latin1;
            var genreFile = Path.Combine(items.DirectoryName!, "u.genre");
            var names = File.Exists(genreFile)
                ? File.ReadLines(genreFile, latin1).Where(l => l.Contains('|')).Select(l => l.Split('|')[0]).ToArray()
                : [];
            foreach (var line in File.ReadLines(items.FullName, latin1))
            {
                var parts = line.Split('|');
                if (parts.Length < 6)
                {
                    continue;
                }
                var flags = parts[5..];
                genres[parts[0]] = [.. flags.Select((f, g) => (f, g)).Where(x => x.f == "1" && x.g < names.Length).Select(x => names[x.g])];
                titles[parts[0]] = parts[1];
            }
        }
        var all = split.ItemIds;
        foreach (var chunk in all.Chunk(1000))
        {
            var array = new JsonArray();
            foreach (var id in chunk)
            {
                var categories = new JsonArray();
                foreach (var g in genres.GetValueOrDefault(id) ?? [])
                {
                    categories.Add(g);
                }
                array.Add(new JsonObject
                {
                    ["id"] = "m" + id,
                    ["title"] = titles.GetValueOrDefault(id) is { Length: > 0 } t ? t : "Movie " + id,
                    ["categories"] = categories,
                    ["price"] = 1,
                    ["currency"] = "EUR",
                    ["inStock"] = true,
                });
            }
            using var content = new StringContent(new JsonObject { ["items"] = array }.ToJsonString(), Encoding.UTF8, "application/json");
            var put = await admin.PutAsync("/v1/catalog/items", content, ct);
            if (!put.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"PUT /v1/catalog/items: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(ct)}");
            }
        }
        Console.Error.WriteLine($"catalogue: {all.Length} items" + (items is null ? "" : $", genres from {items.Name}"));
    }
}

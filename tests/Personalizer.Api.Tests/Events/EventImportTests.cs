using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Api.Tests.Events;

/// <summary>A shop brings its order history: NDJSON, any past timestamp, applied in time order, idempotent.</summary>
public sealed class EventImportTests : IDisposable
{
    private readonly PersonalizerApp _app = new();
    private readonly HttpClient _admin;

    public EventImportTests() => _admin = _app.Client(PersonalizerApp.AdminKey);

    public void Dispose() => _app.Dispose();

    private static string Order(int customer, DateTimeOffset at, double amount) =>
        $$"""{"eventId":"o-{{customer}}-{{at.ToUnixTimeSeconds()}}","type":"purchase","visitorId":"c-{{customer}}","customerId":"{{customer}}","orderId":"o-{{customer}}-{{at.ToUnixTimeSeconds()}}","timestamp":"{{at:O}}","lines":[{"itemId":"cd","quantity":1,"price":{{amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}]}""";

    private Task<HttpResponseMessage> ImportAsync(string ndjson, HttpClient? client = null)
    {
        var content = new StringContent(ndjson, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        return (client ?? _admin).PostAsync("/v1/events/import", content);
    }

    [Fact]
    public async Task AnOrderHistoryYearsOldIsImportedInTimeOrderOnceAndLearnedFrom()
    {
        var start = new DateTimeOffset(1997, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var lines = new List<string>();
        for (var c = 0; c < 300; c++)
        {
            for (var k = 0; k <= c % 4; k++)
            {
                lines.Add(Order(c, start.AddDays(c % 50 + k * 40), 10 + k));
            }
        }
        lines.Reverse(); // newest first: the import sorts by time
        var body = string.Join('\n', lines) + "\n\n";

        var first = await (await ImportAsync(body)).Json();
        Assert.Equal(lines.Count, first.GetProperty("lines").GetInt32());
        Assert.Equal(lines.Count, first.GetProperty("accepted").GetInt32()); // far more than one batch's 500

        var profile = await (await _admin.GetAsync("/v1/profiles/c-7")).Json();
        Assert.Equal(4, profile.GetProperty("orders").GetInt32());
        Assert.Equal(start.AddDays(7), profile.GetProperty("firstSeen").GetDateTimeOffset());
        Assert.Equal(start.AddDays(7 + 120), profile.GetProperty("lastOrderAt").GetDateTimeOffset());

        // Again: every event is a duplicate.
        var again = await (await ImportAsync(body)).Json();
        Assert.Equal(0, again.GetProperty("accepted").GetInt32());
        Assert.Equal(lines.Count, again.GetProperty("duplicates").GetInt32());

        // Archived, and the CRM refits from it.
        Assert.True(await _app.Services.GetRequiredService<Ledger>().CheckpointAsync());
        await _app.Services.GetRequiredService<Archiver>().RunOnceAsync();
        Assert.NotEmpty(_app.Services.GetRequiredService<EventArchive>().Layout.Files("demo"));
        var model = await (await _admin.PostAsync("/v1/crm/refresh", null)).Json();
        Assert.Equal(300, model.GetProperty("customers").GetInt32());
        Assert.Equal(225, model.GetProperty("repeatCustomers").GetInt32());
    }

    [Fact]
    public async Task OneBadLineRefusesTheWholeImportNamingTheLine()
    {
        var good = Order(1, DateTimeOffset.UtcNow.AddYears(-3), 5);
        var body = good + "\n" + """{"eventId":"x","type":"purchase","visitorId":"c-2"}""" + "\nnot json\n";
        var response = await ImportAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await response.Errors();
        Assert.Contains("lines[2].orderId", errors.Keys);
        Assert.Contains("lines[3]", errors.Keys);
        var profile = await _admin.GetAsync("/v1/profiles/c-1");
        Assert.Equal(HttpStatusCode.NotFound, profile.StatusCode); // nothing applied

        var future = Order(3, DateTimeOffset.UtcNow.AddDays(2), 5);
        Assert.Contains("lines[1].timestamp", (await (await ImportAsync(future)).Errors()).Keys);
    }

    [Fact]
    public async Task ImportNeedsTheAdminKey()
    {
        var response = await ImportAsync(Order(1, DateTimeOffset.UtcNow.AddYears(-1), 5), _app.Client(PersonalizerApp.SiteKey));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}

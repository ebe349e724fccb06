using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Pipeline;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Archive;

/// <summary>After an erasure and a compaction, no file of the data folder holds the visitor's id.</summary>
public sealed class ErasureTests : IDisposable
{
    private readonly PersonalizerApp _app = new(settings: new()
    {
        ["Personalizer:Faster:SegmentMb"] = "4",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AfterCompactionAByteSearchOfTheDataFolderFindsNoTraceOfTheVisitor()
    {
        var site = _app.Client(PersonalizerApp.SiteKey);
        var admin = _app.Client(PersonalizerApp.AdminKey);
        var visitor = "erase-" + Guid.NewGuid().ToString("N");
        var customer = "cust-" + Guid.NewGuid().ToString("N");
        await site.SendEvents(
            ProductView("v1", visitor, "sku-run-001"),
            $$"""{"eventId":"v2","type":"add_to_cart","visitorId":"{{visitor}}","itemId":"sku-run-002","quantity":1,"price":30}""",
            $$"""{"eventId":"v3","type":"purchase","visitorId":"{{visitor}}","orderId":"o-{{visitor}}","lines":[{"itemId":"sku-run-002","quantity":1,"price":30}]}""",
            $$"""{"eventId":"v4","type":"identify","visitorId":"{{visitor}}","customerId":"{{customer}}"}""",
            ProductView("k1", "keeps", "sku-run-003")).AssertStatus(HttpStatusCode.Accepted);
        await site.PutJson($"/v1/visitors/{visitor}/preferences", """{"interests":["yoga"]}""").AssertStatus(HttpStatusCode.OK);
        await site.PostJson("/v1/decide", $$"""{"visitorId":"{{visitor}}","slots":["home-hero","home-recs"]}""").AssertStatus(HttpStatusCode.OK);
        await site.SendEvents(PageView("after-decide", "keeps")).AssertStatus(HttpStatusCode.Accepted);
        Assert.True(await _app.Services.GetRequiredService<Ledger>().CheckpointAsync());
        await _app.Services.GetRequiredService<Archiver>().RunOnceAsync();
        // Before: the search finds it in the log, the store's checkpoint and the archive.
        var before = FilesHolding(visitor);
        Assert.Contains(before, f => f.StartsWith("events", StringComparison.Ordinal));
        Assert.Contains(before, f => f.StartsWith("profiles", StringComparison.Ordinal));
        Assert.Contains(before, f => f.StartsWith("archive", StringComparison.Ordinal));

        await admin.DeleteAsync($"/v1/profiles/{visitor}").AssertStatus(HttpStatusCode.NoContent);
        await site.SendEvents(ProductView("k2", "keeps", "sku-run-001")).AssertStatus(HttpStatusCode.Accepted);
        var report = await (await admin.PostAsync("/v1/data/compact", null)).Json();
        Assert.Equal(1, report.GetProperty("visitorsPurged").GetInt32());

        // FASTER deletes the files behind a log's new start in the background once the commit stands.
        SpinWait.SpinUntil(() => FilesHolding(visitor).Count == 0 && FilesHolding(customer).Count == 0, TimeSpan.FromSeconds(30));
        Assert.Empty(FilesHolding(visitor));
        Assert.Empty(FilesHolding(customer));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/v1/profiles/{visitor}")).StatusCode);

        // Everyone else is intact, and the service goes on.
        var keeps = await (await admin.GetAsync("/v1/profiles/keeps")).Json();
        Assert.Equal(2, keeps.GetProperty("productViews").GetInt32());
        await site.SendEvents(ProductView("k3", "keeps", "sku-run-002")).AssertStatus(HttpStatusCode.Accepted);
        var history = _app.Services.GetRequiredService<EventHistory>().Read("demo").SelectMany(r => r.Record is Personalizer.Engine.Profiles.EventBatchRecord b ? b.Events : []).ToList();
        Assert.Equal(["k1", "after-decide", "k2", "k3"], history.Where(e => e.VisitorId == "keeps").Select(e => e.EventId));
    }

    private List<string> FilesHolding(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return [.. Directory.EnumerateFiles(_app.DataPath, "*", SearchOption.AllDirectories)
            .Where(f => Holds(f, needle))
            .Select(f => Path.GetRelativePath(_app.DataPath, f))];
    }

    /// <summary>Whether the file holds the bytes; a file deleted meanwhile (a truncated log's) holds nothing.</summary>
    private static bool Holds(string file, byte[] needle)
    {
        try
        {
            return File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

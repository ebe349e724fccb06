using System.Net;
using DuckDB.NET.Data;
using Microsoft.Extensions.DependencyInjection;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Archive;

/// <summary>History moves from the log into Parquet files once checkpointed, and whoever learns from history reads both.</summary>
public sealed class ArchiveTests : IDisposable
{
    private readonly PersonalizerApp _app = new();
    private readonly HttpClient _site;
    private readonly HttpClient _admin;

    public ArchiveTests()
    {
        _site = _app.Client(PersonalizerApp.SiteKey);
        _admin = _app.Client(PersonalizerApp.AdminKey);
    }

    public void Dispose() => _app.Dispose();

    private Ledger Ledger => _app.Services.GetRequiredService<Ledger>();
    private Archiver Archiver => _app.Services.GetRequiredService<Archiver>();
    private EventArchive Files => _app.Services.GetRequiredService<EventArchive>();

    private static string Purchase(string id, string visitor, string item) =>
        $$"""{"eventId":"{{id}}","type":"purchase","visitorId":"{{visitor}}","orderId":"{{id}}","lines":[{"itemId":"{{item}}","quantity":2,"price":12.5}]}""";

    private async Task ArchiveNowAsync()
    {
        Assert.True(await Ledger.CheckpointAsync());
        await Archiver.RunOnceAsync();
    }

    private List<Personalizer.Engine.Events.TrackedEvent> History(string site = "demo") =>
        [.. _app.Services.GetRequiredService<EventHistory>().Read(site).SelectMany(r => r.Record is EventBatchRecord b ? b.Events : [])];

    /// <summary>DuckDB beside the service is held to a small memory limit: a sort larger than it spills to disk and completes.</summary>
    [Fact]
    public void ASortLargerThanTheMemoryLimitSpillsAndCompletes()
    {
        using var connection = EventArchive.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT current_setting('threads')";
        Assert.Equal(1L, Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        // A table of 20 M rows written in sorted order: the sort and the table are several times the 160 MB limit.
        command.CommandText = "CREATE TEMP TABLE sorted AS SELECT i, random() AS r FROM range(20000000) t(i) ORDER BY r";
        command.ExecuteNonQuery();
        command.CommandText = "SELECT count(*), max(i), min(r) <= max(r) FROM sorted";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(20_000_000L, reader.GetInt64(0));
        Assert.Equal(19_999_999L, reader.GetInt64(1));
        Assert.True(reader.GetBoolean(2));
    }

    [Fact]
    public async Task CheckpointedRecordsMoveToParquetAndTheLogIsTruncated()
    {
        var events = Enumerable.Range(0, 30).Select(i => i % 3 == 0 ? Purchase($"p{i}", $"v{i % 5}", "sku-run-001") : ProductView($"e{i}", $"v{i % 5}", "sku-run-002")).ToArray();
        await _site.SendEvents(events).AssertStatus(HttpStatusCode.Accepted);
        await _site.PostJson("/v1/decide", """{"visitorId":"v1","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        await _site.SendEvents(PageView("after-decide", "v1")).AssertStatus(HttpStatusCode.Accepted); // the decide's impression goes to the log first
        var logBegin = _app.Services.GetRequiredService<IEventLog>().BeginAddress;

        await ArchiveNowAsync();
        // The log keeps what the older of the two kept checkpoints would replay: truncation follows one checkpoint behind.
        await ArchiveNowAsync();

        var files = Files.Layout.Files("demo");
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Matches(@"site=demo[/\\]day=\d{4}-\d{2}-\d{2}[/\\]local-\d{20}\.parquet$", f));
        Assert.True(_app.Services.GetRequiredService<IEventLog>().BeginAddress > logBegin, "the log was not truncated");

        using var connection = EventArchive.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT kind, count(*), sum(revenue) FROM read_parquet({ArchiveLayout.QuoteList(files)}) GROUP BY kind ORDER BY kind";
        using var reader = query.ExecuteReader();
        var kinds = new Dictionary<string, (long Rows, double Revenue)>();
        while (reader.Read())
        {
            kinds[reader.GetString(0)] = (reader.GetInt64(1), reader.IsDBNull(2) ? 0 : reader.GetDouble(2));
        }
        Assert.Equal(31, kinds["event"].Rows);
        Assert.Equal(10 * 25.0, kinds["event"].Revenue);
        Assert.Equal(1, kinds["decision"].Rows);

        // History is the archive and then the tail, each event once; purchases keep their lines.
        await _site.SendEvents(PageView("tail-1", "v2")).AssertStatus(HttpStatusCode.Accepted);
        var history = History();
        Assert.Equal(32, history.Count);
        Assert.Equal(32, history.Select(e => e.EventId).Distinct().Count());
        var purchase = history.Single(e => e.EventId == "p3");
        Assert.Equal("v3", purchase.VisitorId);
        Assert.Equal(("sku-run-001", 2, 12.5), (purchase.Lines![0].ItemId, purchase.Lines[0].Quantity, purchase.Lines[0].Price));

        // Training reads the archived history.
        var trained = await (await _admin.PostAsync("/v1/models/train?wait=true", null)).Json();
        Assert.Equal(5, trained.GetProperty("users").GetInt32());
    }

    [Fact]
    public async Task AnErasureRewritesTheArchiveFilesThatHoldTheVisitor()
    {
        await _site.SendEvents(ProductView("a1", "gone", "sku-run-001"), ProductView("a2", "stays", "sku-run-001")).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();
        Assert.Contains(History(), e => e.VisitorId == "gone");

        await _admin.DeleteAsync("/v1/profiles/gone").AssertStatus(HttpStatusCode.NoContent);
        Assert.DoesNotContain(History(), e => e.VisitorId == "gone"); // at once, from the tail's erasure
        await ArchiveNowAsync();

        Assert.DoesNotContain(History(), e => e.VisitorId == "gone");
        Assert.Contains(History(), e => e.VisitorId == "stays");
        using (var connection = EventArchive.Open())
        using (var count = connection.CreateCommand())
        {
            count.CommandText = $"SELECT count(*) FILTER (visitor_id = 'gone'), count(*) FROM read_parquet({ArchiveLayout.QuoteList(Files.Layout.Files("demo"))})";
            using var reader = count.ExecuteReader();
            reader.Read();
            Assert.Equal((0L, 1L), (reader.GetInt64(0), reader.GetInt64(1)));
        }
        // Snappy keeps strings as literals: no byte of the id is left in any file.
        foreach (var file in Files.Layout.Files("demo"))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf("gone"u8) < 0, file);
        }
        Assert.Empty(Archiver.PendingErasures);
    }

    /// <summary>
    /// A pass stages its records a thousand rows at a time; an erasure met halfway writes out what is staged
    /// first, so the rewrite reaches the erased visitor's earlier rows, and the visitor's rows after it stay.
    /// </summary>
    [Fact]
    public async Task AnErasureHalfwayThroughALargePassLeavesOnlyTheVisitorsLaterRows()
    {
        async Task SendAsync(string prefix)
        {
            for (var request = 0; request < 5; request++)
            {
                var events = Enumerable.Range(request * 240, 240)
                    .Select(i => ProductView($"{prefix}{i}", i % 10 == 0 ? "returns" : $"v{i % 7}", "sku-run-001")).ToArray();
                await _site.SendEvents(events).AssertStatus(HttpStatusCode.Accepted);
            }
        }
        await SendAsync("before-");
        await _admin.DeleteAsync("/v1/profiles/returns").AssertStatus(HttpStatusCode.NoContent);
        await SendAsync("after-");
        await ArchiveNowAsync();

        var files = Files.Layout.Files("demo");
        Assert.True(files.Count >= 2, $"{files.Count} file(s): the stage was not written out before the erasure");
        using var connection = EventArchive.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"""
            SELECT count(*), count(DISTINCT event_id),
                   count(*) FILTER (visitor_id = 'returns' AND starts_with(event_id, 'before-')),
                   count(*) FILTER (visitor_id = 'returns' AND starts_with(event_id, 'after-'))
            FROM read_parquet({ArchiveLayout.QuoteList(files)}) WHERE kind = 'event'
            """;
        using var reader = query.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal((2400L - 120, 2400L - 120, 0L, 120L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        Assert.Empty(Archiver.PendingErasures);
        var history = History();
        Assert.Equal(2400 - 120, history.Count);
        Assert.Equal(120, history.Count(e => e.VisitorId == "returns"));
    }

    [Fact]
    public async Task AVisitorWhoRefusedTrackingLeavesNoArchiveRowAfterTheRefusal()
    {
        await _site.SendEvents(ProductView("before", "private", "sku-run-001"), ProductView("other-1", "public", "sku-run-001")).AssertStatus(HttpStatusCode.Accepted);
        await _site.PutJson("/v1/visitors/private/preferences", """{"tracking":"denied"}""").AssertStatus(HttpStatusCode.OK);
        await _site.PostJson("/v1/decide", """{"visitorId":"private","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        await _site.PostJson("/v1/decide", """{"visitorId":"public","slots":["home-hero"]}""").AssertStatus(HttpStatusCode.OK);
        await _site.SendEvents(ProductView("after", "private", "sku-run-002"), ProductView("other-2", "public", "sku-run-002")).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();

        using var connection = EventArchive.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT visitor_id, kind, coalesce(event_id, source) FROM read_parquet({ArchiveLayout.QuoteList(Files.Layout.Files("demo"))}) ORDER BY visitor_id, kind, 3";
        using var reader = query.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add($"{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)}");
        }
        Assert.Equal(["private consent denied", "private event before", "public decision rule", "public event other-1", "public event other-2"],
            rows.Select(r => r.StartsWith("public decision", StringComparison.Ordinal) ? "public decision rule" : r));
        Assert.DoesNotContain(History(), e => e.VisitorId == "private" && e.EventId == "after");
    }

    [Fact]
    public async Task AProfileExportHoldsTheArchivedAndRecentEventsAndDecisions()
    {
        await _site.SendEvents(ProductView("old-1", "me", "sku-run-001"), Purchase("old-2", "me", "sku-run-002"), ProductView("not-mine", "you", "sku-run-001")).AssertStatus(HttpStatusCode.Accepted);
        await _site.PostJson("/v1/decide", """{"visitorId":"me","slots":["home-hero","home-recs"]}""").AssertStatus(HttpStatusCode.OK);
        await _site.SendEvents(PageView("flush", "you")).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();
        await _site.SendEvents(ProductView("new-1", "me", "sku-run-003")).AssertStatus(HttpStatusCode.Accepted); // still in the log

        var export = await (await _admin.GetAsync("/v1/profiles/me/export")).Json();
        Assert.Equal(["old-1", "old-2", "new-1"], export.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()));
        var purchase = export.GetProperty("events")[1];
        Assert.Equal("purchase", purchase.GetProperty("type").GetString());
        Assert.Equal(12.5, purchase.GetProperty("lines")[0].GetProperty("price").GetDouble());
        var decisions = export.GetProperty("decisions").EnumerateArray().ToList();
        Assert.Equal(["home-hero", "home-recs"], decisions.Select(d => d.GetProperty("slotId").GetString()).Order());
        Assert.Single(decisions.Select(d => d.GetProperty("decisionId").GetString()).Distinct());
    }

    [Fact]
    public async Task AnAnalystQueriesTheArchiveButCannotWriteWithIt()
    {
        await _site.SendEvents(ProductView("q1", "x", "sku-run-001"), ProductView("q2", "y", "sku-run-002")).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();

        using (var connection = EventArchive.Open())
        using (var reader = Files.Query(connection, "SELECT site, count(DISTINCT visitor_id) FROM events WHERE kind = 'event' GROUP BY site"))
        {
            Assert.True(reader.Read());
            Assert.Equal(("demo", 2L), (reader.GetString(0), reader.GetInt64(1)));
        }
        var target = Path.Combine(_app.DataPath, "stolen.csv");
        using (var connection = EventArchive.Open())
        {
            Assert.ThrowsAny<DuckDBException>(() => Files.Query(connection, $"COPY events TO '{target}'").Read());
        }
        using (var connection = EventArchive.Open())
        {
            Assert.ThrowsAny<DuckDBException>(() => Files.Query(connection, "SET enable_external_access = true").Read());
        }
        Assert.False(File.Exists(target));
    }
    /// <summary>
    /// A closed day's files are merged into one that holds every row, the parts in log order (each part sorted within
    /// itself), and the history reads the same events from it as from the parts.
    /// </summary>
    [Fact]
    public async Task AClosedDaysFilesAreMergedIntoOneHoldingEveryRowInLogOrder()
    {
        var day = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-2).AddHours(12), TimeSpan.Zero);
        string Old(string id, string visitor, int minute) =>
            $$"""{"eventId":"{{id}}","type":"page_view","visitorId":"{{visitor}}","timestamp":"{{day.AddMinutes(-minute).ToString("O", System.Globalization.CultureInfo.InvariantCulture)}}"}""";
        // The second part's events are older than the first's: a sort by time would interleave them, a merge in log order does not.
        await _site.SendEvents([.. Enumerable.Range(0, 30).Select(i => Old($"first-{i}", $"mv{i % 7}", i))]).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();
        var folder = Files.Layout.Days().Single(d => d.Day == ArchiveLayout.Day(day.ToUnixTimeMilliseconds())).Folder;
        Assert.Single(Directory.GetFiles(folder, "*.parquet"));
        await _site.SendEvents([.. Enumerable.Range(0, 30).Select(i => Old($"second-{i}", $"mv{i % 7}", 100 + i))]).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();

        var merged = Assert.Single(Directory.GetFiles(folder, "*.parquet"));
        Assert.True(ArchiveLayout.TryParse(merged, out _, out var first, out var last) && first < last, merged);
        using var connection = EventArchive.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT event_id, seq FROM read_parquet({ArchiveLayout.Quote(merged)})";
        var rows = new List<(string Id, long Seq)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }
        Assert.Equal(60, rows.Count);
        Assert.Equal([.. rows.Select(r => r.Seq).Order()], rows.Select(r => r.Seq));
        Assert.All(rows.Take(30), r => Assert.StartsWith("first-", r.Id, StringComparison.Ordinal));
        var history = History().Where(e => e.EventId.StartsWith("first-", StringComparison.Ordinal) || e.EventId.StartsWith("second-", StringComparison.Ordinal)).ToList();
        Assert.Equal(60, history.Select(e => e.EventId).Distinct().Count());
        Assert.Equal([.. history.Select(e => e.Timestamp).Order()], history.Select(e => e.Timestamp)); // read back in time order all the same
    }

    /// <summary>
    /// The customer models read the archive summed per visitor by DuckDB, not event by event: the same customers, days,
    /// amounts, last day, visitors and prospects as folding every archived event, with retried event ids, an id first
    /// seen as a view and later sent as a purchase, customer ids moving, an erasure and a refusal, part of it archived
    /// and part in the log's tail.
    /// </summary>
    [Fact]
    public async Task TheCustomerModelsSummedReadOfTheArchiveEqualsReadingEveryEvent()
    {
        var now = DateTimeOffset.UtcNow;
        string At(int daysAgo, int minute) => now.AddDays(-daysAgo).AddMinutes(-minute).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        string Bought(string id, string visitor, int daysAgo, double price, string? customer = null) =>
            $$"""{"eventId":"{{id}}","type":"purchase","visitorId":"{{visitor}}","orderId":"{{id}}",{{(customer is null ? "" : $"\"customerId\":\"{customer}\",")}}"timestamp":"{{At(daysAgo, 0)}}","lines":[{"itemId":"sku-run-001","quantity":1,"price":{{price.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}]}""";
        string Viewed(string id, string visitor, int daysAgo, int minute) =>
            $$"""{"eventId":"{{id}}","type":"product_view","visitorId":"{{visitor}}","itemId":"sku-run-002","timestamp":"{{At(daysAgo, minute)}}"}""";
        string Carted(string id, string visitor, int daysAgo) =>
            $$"""{"eventId":"{{id}}","type":"add_to_cart","visitorId":"{{visitor}}","itemId":"sku-run-002","quantity":1,"price":5,"timestamp":"{{At(daysAgo, 1)}}"}""";
        var first = new List<string>();
        for (var v = 0; v < 12; v++)
        {
            for (var k = 0; k < v % 5; k++)
            {
                first.Add(Viewed($"v{v}-view{k}", $"cv{v}", 3, k));
            }
            if (v % 3 == 0)
            {
                first.Add(Bought($"v{v}-buy-a", $"cv{v}", 9, 10 + v, v % 2 == 0 ? $"cust{v / 4}" : null));
                first.Add(Bought($"v{v}-buy-b", $"cv{v}", 9, 2.5));
                first.Add(Bought($"v{v}-buy-c", $"cv{v}", 4, 7.25));
            }
            if (v % 4 == 1)
            {
                first.Add(Carted($"v{v}-cart", $"cv{v}", 2));
            }
        }
        first.Add(Viewed("cv5-same-id", "cv5", 5, 0));
        // Two product views and other events: not a prospect (three product views make one).
        first.AddRange(Enumerable.Range(0, 3).Select(i => PageView($"cv7-page{i}", "cv7")));
        // Two archived product views and a third in the tail: a prospect only when both are counted together (the equality below).
        first.AddRange([Viewed("cv12-view0", "cv12", 2, 0), Viewed("cv12-view1", "cv12", 2, 1)]);
        await _site.SendEvents([.. first]).AssertStatus(HttpStatusCode.Accepted);
        // Retries (logged again, answered as duplicates) and an id first seen as a view, sent again as a purchase.
        await _site.SendEvents(first[0], first[3], first[5], Bought("cv5-same-id", "cv5", 5, 99)).AssertStatus(HttpStatusCode.Accepted);
        await ArchiveNowAsync();
        await ArchiveNowAsync();
        Assert.NotEmpty(Files.Layout.Files("demo"));

        // The tail: more of the same visitors, a retry of an archived purchase, a new customer link, an erasure and a refusal.
        await _site.SendEvents(Bought("v0-buy-a", "cv0", 9, 10), Bought("tail-buy", "cv3", 1, 40, "cust-tail"), Viewed("tail-view", "cv1", 0, 2), Viewed("tail-view-12", "cv12", 0, 3),
            Bought("tail-buy-2", "cv9", 0, 12.5), Carted("tail-cart", "cv2", 0)).AssertStatus(HttpStatusCode.Accepted);
        await _admin.DeleteAsync("/v1/profiles/cv6").AssertStatus(HttpStatusCode.NoContent);
        await _site.PutJson("/v1/visitors/cv11/preferences", """{"tracking":"denied"}""").AssertStatus(HttpStatusCode.OK);
        await _app.Services.GetRequiredService<Ledger>().CheckpointAsync();

        var history = _app.Services.GetRequiredService<EventHistory>();
        var summed = Personalizer.Engine.Crm.PurchaseHistory.Read(history, CancellationToken.None)["demo"];
        var everyEvent = Personalizer.Engine.Crm.PurchaseHistory.ReadEventByEvent(history, CancellationToken.None)["demo"];

        static string Show(Personalizer.Engine.Crm.SiteHistory h) =>
            $"last day {h.LastDay}, visitors {h.Visitors}, engaged {h.EngagedVisitors}; " + string.Join("; ", h.Customers.Select(c =>
                c.Id + ": " + string.Join(" ", c.Days.Select(d => $"{d.Day}/{d.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{d.Orders}"))));
        Assert.Equal(Show(everyEvent), Show(summed));
        Assert.Contains(summed.Customers, c => c.Days.Length >= 2); // repeat customers, so the comparison covers days
        Assert.Contains(summed.Customers, c => c.Id == "cust-tail");
        Assert.DoesNotContain(summed.Customers, c => c.Id is "cv6" or "cv11"); // erased, refused
        Assert.True(summed.EngagedVisitors > 0);
    }
}

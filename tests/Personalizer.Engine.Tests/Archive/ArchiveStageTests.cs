using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Tests.Archive;

/// <summary>An archiving pass stages its rows in DuckDB and writes them out a file at a time.</summary>
public sealed class ArchiveStageTests : IDisposable
{
    private static readonly long Day = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static List<(long Seq, LogRecord Record)> Batch(long seq, int events, long at = 0) =>
    [
        (seq, new EventBatchRecord("shop", [.. Enumerable.Range(0, events).Select(i => new TrackedEvent
        {
            EventId = $"e{seq}-{i}",
            Type = EventType.ProductView,
            VisitorId = $"visitor-{i % 97}",
            Timestamp = (at == 0 ? Day : at) + i,
            ItemId = $"item-{i % 31}",
        })])),
    ];

    private static readonly Func<string, string, long, bool> Keep = (_, _, _) => false;

    [Fact]
    public void AFlushWritesOneFilePerSiteAndDayNamedByItsFirstSequenceNumberInLogOrder()
    {
        var archive = new EventArchive(new ArchiveLayout(_folder.Path));
        using var stage = archive.BeginStage("node-a");
        stage.Append(Batch(7, 3), Keep, Keep);
        stage.Append(Batch(8, 2, at: Day + 86_400_000), Keep, Keep);
        stage.Append(Batch(9, 2), Keep, Keep);
        Assert.Equal(7, stage.Rows);
        Assert.Equal(7, stage.FirstSeq);

        Assert.Equal(7, stage.Flush());
        Assert.Equal((0L, (long?)null), (stage.Rows, stage.FirstSeq));
        var files = archive.Layout.Files("shop");
        Assert.Equal(
            new[] { archive.Layout.FileFor("shop", "2026-03-02", "node-a", 7), archive.Layout.FileFor("shop", "2026-03-03", "node-a", 7) },
            files.Order(StringComparer.Ordinal));
        using var connection = EventArchive.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT string_agg(event_id || ':' || pos, ' ' ORDER BY seq, pos) FROM read_parquet({ArchiveLayout.Quote(files.Order(StringComparer.Ordinal).First())})";
        Assert.Equal("e7-0:0 e7-1:1 e7-2:2 e9-0:3 e9-1:4", (string?)query.ExecuteScalar());
    }

    [Fact]
    public void RowsLeftOutBySkipAreNotWrittenAndAnEmptyStageWritesNothing()
    {
        var archive = new EventArchive(new ArchiveLayout(_folder.Path));
        using var stage = archive.BeginStage("");
        Assert.Equal(0, stage.Flush());
        stage.Append(Batch(1, 10), (site, visitor, seq) => visitor == "visitor-3", Keep);
        Assert.Equal(9, stage.Flush());
        Assert.Single(archive.Layout.Files("shop"));
    }

    /// <summary>A pass over a busy minute stages a million rows: each flush gives DuckDB's memory back.</summary>
    [Fact]
    public void FlushingGivesTheStagedRowsMemoryBack()
    {
        var archive = new EventArchive(new ArchiveLayout(_folder.Path));
        using var stage = archive.BeginStage("");
        stage.Append(Batch(1, 50_000), Keep, Keep);
        var staged = stage.MemoryBytes();
        Assert.True(staged > 1 << 20, $"{staged} bytes staged");
        for (var round = 2; round < 6; round++)
        {
            stage.Flush();
            stage.Append(Batch(round, 50_000), Keep, Keep);
        }
        stage.Flush();
        Assert.True(stage.MemoryBytes() < staged / 4, $"{stage.MemoryBytes()} bytes held after flushing, {staged} with one batch staged");
    }
}

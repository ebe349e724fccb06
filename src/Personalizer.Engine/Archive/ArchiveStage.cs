using DuckDB.NET.Data;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>
/// One node's records on their way into the archive. <see cref="Append"/> takes them a small batch at a time and
/// appends their rows to a DuckDB table, which lives in DuckDB's memory, not on the .NET heap; <see cref="Flush"/>
/// writes what has been staged as one file per site and day, each named by the first sequence number staged since
/// the last flush. Written again after a crash (the same records, flushed at the same points), a flush replaces its
/// own files.
/// </summary>
/// <remarks>
/// Staging is what keeps an archiving pass from holding its rows as .NET objects: tens of thousands of decoded
/// records alive across collections were promoted into the older generations, and each such collection paused
/// every request for 20-30 ms.
/// </remarks>
public sealed class ArchiveStage : IDisposable
{
    private static readonly string ColumnNames = string.Join(", ", ArchiveSchema.Columns
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(column => column.Split(' ', 2)[0]));

    private readonly EventArchive _archive;
    private readonly string _node;
    private readonly string _name;
    private readonly DuckDBConnection _connection;
    private readonly Dictionary<(string Site, string Day), int> _positions = [];

    internal ArchiveStage(EventArchive archive, string node, DuckDBConnection connection)
    {
        _archive = archive;
        _node = node;
        _name = ArchiveLayout.NodeName(node);
        _connection = connection;
        Create();
    }

    private void Create() => EventArchive.Execute(_connection, $"CREATE TEMP TABLE staged (p_site VARCHAR, p_day VARCHAR, {ArchiveSchema.Columns})");

    /// <summary>Entries staged since the last flush: events, served decisions (one however many slots it has) and consent changes.</summary>
    public long Rows { get; private set; }

    /// <summary>The first sequence number staged since the last flush (the name of its files), or null.</summary>
    public long? FirstSeq { get; private set; }

    /// <summary>
    /// Stages the events and served decisions of <paramref name="records"/> (the next in log order). Events and
    /// decisions for which <paramref name="skip"/> (site, visitor, sequence) is true are left out, and consent changes
    /// for which <paramref name="skipConsent"/> is.
    /// </summary>
    public void Append(IReadOnlyList<(long Seq, LogRecord Record)> records, Func<string, string, long, bool> skip, Func<string, string, long, bool> skipConsent)
    {
        if (records.Count == 0)
        {
            return;
        }
        FirstSeq ??= records[0].Seq;
        using var appender = _connection.CreateAppender("staged");
        IDuckDBAppenderRow Row(string site, long at, out int pos)
        {
            var day = ArchiveLayout.Day(at);
            pos = _positions.GetValueOrDefault((site, day));
            _positions[(site, day)] = pos + 1;
            return appender.CreateRow().AppendValue(site).AppendValue(day);
        }
        foreach (var (seq, record) in records)
        {
            switch (record)
            {
                case EventBatchRecord batch:
                    foreach (var e in batch.Events)
                    {
                        if (!skip(batch.SiteId, e.VisitorId, seq))
                        {
                            Rows++;
                            ArchiveSchema.AppendEvent(Row(batch.SiteId, e.Timestamp, out var pos), _name, seq, pos, e);
                        }
                    }
                    break;
                case ImpressionBatchRecord impressions:
                    foreach (var impression in impressions.Impressions)
                    {
                        if (impression.Consent != TrackingConsent.Denied && !skip(impressions.SiteId, impression.VisitorId, seq))
                        {
                            Rows++;
                            foreach (var slot in impression.Slots)
                            {
                                ArchiveSchema.AppendDecision(Row(impressions.SiteId, impression.At, out var pos), _name, seq, pos, impression, slot);
                            }
                        }
                    }
                    break;
                case PreferencesRecord preferences:
                    if (!skipConsent(preferences.SiteId, preferences.VisitorId, seq))
                    {
                        Rows++;
                        ArchiveSchema.AppendConsent(Row(preferences.SiteId, preferences.Preferences.UpdatedAt, out var pos), _name, seq, pos, preferences);
                    }
                    break;
            }
        }
    }

    /// <summary>Writes the staged rows, one file per site and day, and empties the stage. Returns the entries written.</summary>
    public long Flush()
    {
        if (FirstSeq is not { } firstSeq)
        {
            return 0;
        }
        foreach (var (site, day) in _positions.Keys)
        {
            var path = _archive.Layout.FileFor(site, day, _node, firstSeq);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            EventArchive.CopyTo(_connection, $"""
                SELECT {ColumnNames} FROM staged
                WHERE p_site = {ArchiveLayout.Quote(site)} AND p_day = {ArchiveLayout.Quote(day)}
                ORDER BY {ArchiveSchema.Order}
                """, path);
        }
        // Dropped, not emptied: DuckDB keeps a deleted row's memory, and a pass over a busy minute stages a million rows.
        EventArchive.Execute(_connection, "DROP TABLE staged");
        Create();
        var written = Rows;
        _positions.Clear();
        Rows = 0;
        FirstSeq = null;
        return written;
    }

    /// <summary>What DuckDB holds in memory for this stage, in bytes.</summary>
    internal long MemoryBytes()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT CAST(coalesce(sum(memory_usage_bytes), 0) AS BIGINT) FROM duckdb_memory()";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose() => _connection.Dispose();
}

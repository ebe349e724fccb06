using System.Data.Common;
using DuckDB.NET.Data;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>
/// The long-term history as Parquet files, written and read with DuckDB (an in-process engine: no server,
/// and the files are what Spark, Trino or ClickHouse read too). Each write goes to a temporary file that
/// is flushed to disk and renamed into place, so a file is whole or absent; a rewrite (merge, erasure)
/// replaces files the same way.
/// </summary>
public sealed partial class EventArchive(ArchiveLayout layout)
{
    public ArchiveLayout Layout { get; } = layout;

    /// <summary>
    /// Starts writing one node's records (in log order) into the archive: see <see cref="ArchiveStage"/>.
    /// </summary>
    public ArchiveStage BeginStage(string node) => new(this, node, Open());

    /// <summary>
    /// The events of a site (every site when null) in time order, without the visitors in
    /// <paramref name="excluded"/>, and without this node's rows after <paramref name="ownUntilSeq"/> (those
    /// a reader takes from the log's tail instead).
    /// </summary>
    public IEnumerable<(string Site, TrackedEvent Event)> ReadEvents(string? site, IReadOnlyCollection<(string Site, string Visitor)> excluded, string node, long ownUntilSeq, CancellationToken ct = default)
    {
        var files = Layout.Files(site);
        if (files.Count == 0)
        {
            yield break;
        }
        using var connection = Open();
        FillExcluded(connection, excluded);
        using var command = connection.CreateCommand();
        // A client's retry is logged again (and answered as a duplicate): the first of each visitor's event ids counts.
        command.CommandText = $"""
            SELECT site, {ArchiveSchema.EventColumns} FROM {Source(files)} a
            WHERE kind = 'event' AND NOT (node = $node AND seq > $until)
              AND NOT EXISTS (SELECT 1 FROM excluded x WHERE x.site = a.site AND x.visitor_id = a.visitor_id)
            QUALIFY row_number() OVER (PARTITION BY site, visitor_id, event_id ORDER BY {ArchiveSchema.Order}) = 1
            ORDER BY {ArchiveSchema.Order}
            """;
        command.Parameters.Add(new DuckDBParameter("node", ArchiveLayout.NodeName(node)));
        command.Parameters.Add(new DuckDBParameter("until", ownUntilSeq));
        using var reader = (DuckDBDataReader)command.ExecuteReader();
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            yield return (reader.GetString(0), ArchiveSchema.ReadEvent(reader, offset: 1));
        }
    }

    /// <summary>One visitor's archived events and served decisions (theirs and those of the visitor ids merged into them), in time order.</summary>
    public (List<TrackedEvent> Events, List<ArchivedDecision> Decisions) ReadVisitor(string site, IReadOnlyCollection<string> visitorIds)
    {
        var events = new List<TrackedEvent>();
        var decisions = new List<ArchivedDecision>();
        var files = Layout.Files(site);
        if (files.Count == 0 || visitorIds.Count == 0)
        {
            return (events, decisions);
        }
        using var connection = Open();
        FillExcluded(connection, [.. visitorIds.Select(v => (site, v))]);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SELECT {ArchiveSchema.EventColumns} FROM {Source(files)} a WHERE kind = 'event' AND visitor_id IN (SELECT visitor_id FROM excluded)
                QUALIFY row_number() OVER (PARTITION BY visitor_id, event_id ORDER BY {ArchiveSchema.Order}) = 1 ORDER BY {ArchiveSchema.Order}
                """;
            using var reader = (DuckDBDataReader)command.ExecuteReader();
            while (reader.Read())
            {
                events.Add(ArchiveSchema.ReadEvent(reader));
            }
        }
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT decision_id, epoch_ms(ts), slot_id, variant, source, items FROM {Source(files)} WHERE kind = 'decision' AND visitor_id IN (SELECT visitor_id FROM excluded) ORDER BY {ArchiveSchema.Order}";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                decisions.Add(new ArchivedDecision(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetString(4), reader.IsDBNull(5) ? null : System.Text.Json.JsonSerializer.Deserialize(reader.GetString(5), ArchiveJson.Default.StringArray)));
            }
        }
        return (events, decisions);
    }

    /// <summary>Which of <paramref name="keys"/> (site, visitor, event id) the archive already holds.</summary>
    public HashSet<(string Site, string Visitor, string EventId)> Existing(IReadOnlyCollection<(string Site, string Visitor, string EventId)> keys)
    {
        var found = new HashSet<(string, string, string)>();
        var files = Layout.Files();
        if (files.Count == 0 || keys.Count == 0)
        {
            return found;
        }
        using var connection = Open();
        Execute(connection, "CREATE TEMP TABLE wanted (site VARCHAR, visitor_id VARCHAR, event_id VARCHAR)");
        using (var appender = connection.CreateAppender("wanted"))
        {
            foreach (var (site, visitor, id) in keys)
            {
                appender.CreateRow().AppendValue(site).AppendValue(visitor).AppendValue(id).EndRow();
            }
        }
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT DISTINCT w.site, w.visitor_id, w.event_id FROM wanted w JOIN {Source(files)} a ON a.kind = 'event' AND a.site = w.site AND a.visitor_id = w.visitor_id AND a.event_id = w.event_id";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            found.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }
        return found;
    }

    /// <summary>Visitors whose latest archived consent is a denial of tracking, by site.</summary>
    public IReadOnlyList<(string Site, string Visitor)> TrackingDenied(string? site)
    {
        var files = Layout.Files(site);
        if (files.Count == 0)
        {
            return [];
        }
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT site, visitor_id FROM {Source(files)} WHERE kind = 'consent'
            QUALIFY row_number() OVER (PARTITION BY site, visitor_id ORDER BY ts DESC, seq DESC, pos DESC) = 1 AND source = 'denied'
            """;
        using var reader = command.ExecuteReader();
        var denied = new List<(string, string)>();
        while (reader.Read())
        {
            denied.Add((reader.GetString(0), reader.GetString(1)));
        }
        return denied;
    }

    /// <summary>
    /// Rewrites every file that holds one of <paramref name="visitors"/> without their rows (erasure).
    /// Returns the files rewritten.
    /// </summary>
    public int Erase(IReadOnlyCollection<(string Site, string Visitor)> visitors)
    {
        if (visitors.Count == 0)
        {
            return 0;
        }
        var rewritten = 0;
        using var connection = Open();
        FillExcluded(connection, visitors);
        foreach (var site in visitors.Select(v => v.Site).Distinct(StringComparer.Ordinal))
        {
            foreach (var file in Layout.Files(site))
            {
                using var count = connection.CreateCommand();
                count.CommandText = $"SELECT count(*) FROM read_parquet({ArchiveLayout.Quote(file)}) a WHERE a.visitor_id IN (SELECT visitor_id FROM excluded WHERE site = {ArchiveLayout.Quote(site)})";
                if (Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
                {
                    continue;
                }
                CopyTo(connection, $"SELECT * FROM read_parquet({ArchiveLayout.Quote(file)}) a WHERE a.visitor_id NOT IN (SELECT visitor_id FROM excluded WHERE site = {ArchiveLayout.Quote(site)}) ORDER BY {ArchiveSchema.Order}", file);
                rewritten++;
            }
        }
        return rewritten;
    }

    /// <summary>
    /// Merges each day's files of <paramref name="node"/> before <paramref name="beforeDay"/> into one
    /// (<c>NODE-FIRST-LAST.parquet</c>), so that a day ends as one file per node. The merged file is in place
    /// before the parts are deleted; a part left by a crash in between is recognised by its range and deleted.
    /// The parts are copied in log order, each still sorted within itself, not sorted again as one: every reader orders
    /// what it reads, and a day's sort beside the service took DuckDB's whole memory limit (160 MB more resident for the
    /// ~45 s of the merge under load; at a 64 MB limit it failed for lack of memory), where a copy streams.
    /// </summary>
    public int MergeClosedDays(string node, string beforeDay)
    {
        var name = ArchiveLayout.NodeName(node);
        var merged = 0;
        using var connection = Open();
        foreach (var (_, day, folder) in Layout.Days().ToList())
        {
            if (string.CompareOrdinal(day, beforeDay) >= 0)
            {
                continue;
            }
            var mine = Directory.GetFiles(folder, "*.parquet")
                .Select(f => (File: f, Ok: ArchiveLayout.TryParse(f, out var n, out var first, out var last), Node: n, First: first, Last: last))
                .Where(f => f.Ok && f.Node == name).OrderBy(f => f.First).ToList();
            // Parts already inside a merged file (a crash after the merge and before the deletes).
            foreach (var whole in mine.Where(f => f.First != f.Last).ToList())
            {
                foreach (var part in mine.Where(f => f.First == f.Last && f.File != whole.File && f.First >= whole.First && f.First <= whole.Last).ToList())
                {
                    File.Delete(part.File);
                    mine.Remove(part);
                }
            }
            if (mine.Count < 2)
            {
                continue;
            }
            var lastSeq = MaxSeq(connection, mine.Select(f => f.File));
            var target = Path.Combine(folder, $"{name}-{mine[0].First:D20}-{lastSeq:D20}.parquet");
            CopyTo(connection, $"SELECT * FROM read_parquet({ArchiveLayout.QuoteList(mine.Select(f => f.File))})", target, rowGroupSize: MergeRowGroupSize);
            foreach (var part in mine.Where(f => f.File != target))
            {
                File.Delete(part.File);
            }
            DurableFiles.FlushFolder(folder);
            merged++;
        }
        return merged;
    }

    /// <summary>Deletes the day folders before <paramref name="firstKeptDay"/>; returns how many.</summary>
    public int DeleteDaysBefore(string firstKeptDay)
    {
        var deleted = 0;
        foreach (var (_, day, folder) in Layout.Days().ToList())
        {
            if (string.CompareOrdinal(day, firstKeptDay) < 0)
            {
                Directory.Delete(folder, recursive: true);
                deleted++;
            }
        }
        return deleted;
    }

    /// <summary>
    /// Runs an analyst's SQL over the whole archive, read-only: the rows are loaded into an in-memory table
    /// <c>events</c> (with <c>site</c> and <c>day</c>), then DuckDB's access to files is switched off and locked
    /// before the query runs, so it can read the archive but neither change it nor write anywhere.
    /// </summary>
    public DbDataReader Query(DuckDBConnection connection, string sql)
    {
        var files = Layout.Files();
        Execute(connection, files.Count == 0
            ? $"CREATE TABLE events ({ArchiveSchema.Columns}, site VARCHAR, day VARCHAR)"
            : $"CREATE TABLE events AS SELECT * FROM {Source(files)}");
        Execute(connection, "SET enable_external_access = false");
        Execute(connection, "SET lock_configuration = true");
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteReader();
    }

    /// <summary>
    /// An in-process DuckDB held to a small footprint beside the service: one thread (the other core serves
    /// requests) and <see cref="MemoryLimitMb"/> of memory, beyond which sorts, joins and tables spill to a
    /// temporary folder. Its defaults (every core, 80 % of the machine's memory) would take the service's share.
    /// Each connection is a database of its own and numbers its spill files from zero, so each gets its own folder
    /// (created by DuckDB only when it spills).
    /// </summary>
    public static DuckDBConnection Open(int memoryLimitMb = MemoryLimitMb)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        var spill = Path.Combine(Directory.CreateDirectory(SpillRoot).FullName, Guid.NewGuid().ToString("N"));
        Execute(connection, $"SET memory_limit = '{memoryLimitMb}MB'");
        Execute(connection, "SET threads = 1");
        Execute(connection, $"SET temp_directory = {ArchiveLayout.Quote(spill)}");
        return connection;
    }

    private const int MemoryLimitMb = 160;

    /// <summary>
    /// Rows per row group of a merged day: DuckDB's Parquet writer holds a row group in memory before writing it, and at its
    /// default (122,880 rows) the first merge under load took ~100 MB more resident; at 20,000 it stays inside steady state
    /// (a part holds at most the archiver's 25,000 rows, so the parts' groups are no larger).
    /// </summary>
    private const int MergeRowGroupSize = 20_000;

    private static readonly string SpillRoot = Path.Combine(Path.GetTempPath(), "personalizer-duckdb");

    private static string Source(IReadOnlyList<string> files) =>
        $"read_parquet({ArchiveLayout.QuoteList(files)}, hive_partitioning = true, union_by_name = true)";

    private static long MaxSeq(DuckDBConnection connection, IEnumerable<string> files)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT max(seq) FROM read_parquet({ArchiveLayout.QuoteList(files)})";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void FillExcluded(DuckDBConnection connection, IReadOnlyCollection<(string Site, string Visitor)> visitors)
    {
        Execute(connection, "CREATE OR REPLACE TEMP TABLE excluded (site VARCHAR, visitor_id VARCHAR)");
        using var appender = connection.CreateAppender("excluded");
        foreach (var (site, visitor) in visitors)
        {
            appender.CreateRow().AppendValue(site).AppendValue(visitor).EndRow();
        }
    }

    /// <summary>COPY to a temporary file, flush it to disk, rename it over <paramref name="path"/>, flush the folder.</summary>
    internal static void CopyTo(DuckDBConnection connection, string select, string path, int? rowGroupSize = null)
    {
        var temp = path + ".tmp";
        try
        {
            var rowGroups = rowGroupSize is { } rows ? $", ROW_GROUP_SIZE {rows}" : "";
            Execute(connection, $"COPY ({select}) TO {ArchiveLayout.Quote(temp)} (FORMAT parquet, COMPRESSION snappy{rowGroups})");
            using (var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            {
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            DurableFiles.FlushFolder(Path.GetDirectoryName(path)!);
        }
        catch
        {
            DurableFiles.TryDelete(temp);
            throw;
        }
    }

    internal static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

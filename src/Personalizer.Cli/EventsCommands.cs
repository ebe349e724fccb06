using System.CommandLine;
using System.Globalization;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Storage.Faster;

namespace Personalizer.Cli;

/// <summary>
/// <c>events export</c>: a site's whole history (archive and log) as JSON lines;
/// <c>events query</c>: an analyst's read-only SQL over the archive.
/// </summary>
internal static class EventsCommands
{
    public static Command Create()
    {
        var events = new Command("events", "The history of a data folder: its archive and durable log.");
        events.Subcommands.Add(Export());
        events.Subcommands.Add(Query());
        events.Subcommands.Add(ImportCommand.Create());
        return events;
    }

    private static Command Export()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "the service's data folder (Personalizer:DataPath); stop the service or use a copy", Required = true };
        var archivePath = new Option<DirectoryInfo?>("--archive") { Description = "the archive folder when it is not DATA/archive (Personalizer:Archive:Path)" };
        var site = new Option<string>("--site") { Required = true };
        var output = new Option<FileInfo>("--out") { Required = true };
        var export = new Command("export", "Write a site's events, archived and in the log, as JSON lines (erased visitors left out).") { data, archivePath, site, output };
        export.SetAction(parse =>
        {
            var root = parse.GetValue(data)!.FullName;
            var folder = Path.Combine(root, "events");
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"events export: no event log under '{folder}'");
                return 2;
            }
            using var log = new FasterEventLog(folder, 8, readOnly: true);
            var archive = new EventArchive(new ArchiveLayout(parse.GetValue(archivePath)?.FullName ?? Path.Combine(root, "archive")));
            var history = new EventHistory(archive, new SavedArchivePosition(Path.Combine(root, "state", "archive.json")), log, ProfileRecordTags.ForReading(), NodeIdentity.Read(root));
            using var writer = new StreamWriter(parse.GetValue(output)!.FullName);
            var count = EventExport.Write(history, parse.GetValue(site)!, writer);
            Console.WriteLine($"wrote {count} events to {parse.GetValue(output)!.FullName}");
            return 0;
        });
        return export;
    }

    private static string Format(object value) => value switch
    {
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFZ", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static Command Query()
    {
        var sql = new Argument<string>("sql") { Description = "a SQL query over the table 'events' (columns: kind, node, seq, ts, visitor_id, event_id, type, item_id, quantity, price, order_id, revenue, currency, customer_id, query, slot_id, decision_id, variant, source, items, url, device, referrer, country, site, day)" };
        var archivePath = new Option<DirectoryInfo>("--archive") { Description = "the archive folder (DATA/archive, or Personalizer:Archive:Path)", Required = true };
        var query = new Command("query", "Ask the archive anything, read-only: the results are printed as tab-separated lines with a header.") { sql, archivePath };
        query.SetAction(parse =>
        {
            var folder = parse.GetValue(archivePath)!.FullName;
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"events query: no archive at '{folder}'");
                return 2;
            }
            var archive = new EventArchive(new ArchiveLayout(folder));
            using var connection = EventArchive.Open();
            try
            {
                using var reader = archive.Query(connection, parse.GetValue(sql)!);
                Console.WriteLine(string.Join('\t', Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)));
                var rows = 0;
                while (reader.Read())
                {
                    Console.WriteLine(string.Join('\t', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : Format(reader.GetValue(i)))));
                    rows++;
                }
                Console.Error.WriteLine($"{rows} rows");
                return 0;
            }
            catch (DuckDB.NET.Data.DuckDBException ex)
            {
                Console.Error.WriteLine($"events query: {ex.Message}");
                return 1;
            }
        });
        return query;
    }
}

using System.CommandLine;
using Personalizer.Engine.Events;
using Personalizer.Engine.Storage.Faster;
using Personalizer.Engine.Profiles;

namespace Personalizer.Cli;

/// <summary><c>events export</c>: a site's events from a data folder's durable log, as JSON lines.</summary>
internal static class EventsCommands
{
    public static Command Create()
    {
        var events = new Command("events", "The durable event log of a data folder.");
        var data = new Option<DirectoryInfo>("--data") { Description = "the service's data folder (Personalizer:DataPath); stop the service or use a copy", Required = true };
        var site = new Option<string>("--site") { Required = true };
        var output = new Option<FileInfo>("--out") { Required = true };
        var export = new Command("export", "Write a site's events as JSON lines (erased visitors left out).") { data, site, output };
        export.SetAction(parse =>
        {
            var folder = Path.Combine(parse.GetValue(data)!.FullName, "events");
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"events export: no event log under '{folder}'");
                return 2;
            }
            using var log = new FasterEventLog(folder, 8, readOnly: true);
            using var writer = new StreamWriter(parse.GetValue(output)!.FullName);
            var count = EventExport.Write(log, ProfileRecordTags.ForReading(), parse.GetValue(site)!, writer);
            Console.WriteLine($"wrote {count} events to {parse.GetValue(output)!.FullName}");
            return 0;
        });
        events.Subcommands.Add(export);
        return events;
    }
}

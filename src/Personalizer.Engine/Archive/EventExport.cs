using System.Globalization;
using System.Text.Json;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>
/// A site's events as JSON lines, in the shape <c>POST /v1/events</c> (and the import) takes: from the
/// whole history, or from a log alone (a stopped node's); events of visitors erased later are left out.
/// </summary>
public static class EventExport
{
    public static int Write(IEventLog log, RecordTypes types, string site, TextWriter output) => Write(LogReader.Read(log, types), site, output);

    public static int Write(EventHistory history, string site, TextWriter output, CancellationToken ct = default) => Write(history.Read(site, ct), site, output);

    private static int Write(IEnumerable<(long Seq, LogRecord Record)> records, string site, TextWriter output)
    {
        var events = new List<TrackedEvent>();
        var erased = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, record) in records)
        {
            if (record is EventBatchRecord batch && batch.SiteId == site)
            {
                events.AddRange(batch.Events);
            }
            else if (record is EraseProfileRecord erase && erase.SiteId == site)
            {
                erased.Add(erase.VisitorId);
            }
        }
        var written = 0;
        using var buffer = new MemoryStream();
        foreach (var e in events)
        {
            if (erased.Contains(e.VisitorId))
            {
                continue;
            }
            buffer.SetLength(0);
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                json.WriteStartObject();
                json.WriteString("eventId", e.EventId);
                json.WriteString("type", EventTypes.Name(e.Type));
                json.WriteString("visitorId", e.VisitorId);
                json.WriteString("timestamp", DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp).ToString("O", CultureInfo.InvariantCulture));
                Optional(json, "itemId", e.ItemId);
                if (e.Quantity > 0)
                {
                    json.WriteNumber("quantity", e.Quantity);
                }
                if (e.Price > 0)
                {
                    json.WriteNumber("price", e.Price);
                }
                Optional(json, "orderId", e.OrderId);
                if (e.Lines is { Length: > 0 })
                {
                    json.WriteStartArray("lines");
                    foreach (var line in e.Lines)
                    {
                        json.WriteStartObject();
                        json.WriteString("itemId", line.ItemId);
                        json.WriteNumber("quantity", line.Quantity);
                        json.WriteNumber("price", line.Price);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteNumber("revenue", e.Revenue);
                }
                Optional(json, "customerId", e.CustomerId);
                Optional(json, "query", e.Query);
                Optional(json, "slotId", e.SlotId);
                json.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            written++;
        }
        return written;
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}

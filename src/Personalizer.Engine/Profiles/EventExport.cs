using System.Globalization;
using System.Text.Json;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// A site's events from the durable log as JSON lines, in the shape <c>POST /v1/events</c> takes;
/// events of visitors erased later in the log are left out.
/// </summary>
public static class EventExport
{
    public static int Write(IEventLog log, RecordTypes types, string site, TextWriter output)
    {
        var events = new List<TrackedEvent>();
        var erased = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, record) in LogReader.Read(log, types))
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

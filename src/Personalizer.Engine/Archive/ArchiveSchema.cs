using System.Text.Json;
using DuckDB.NET.Data;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>
/// The columns of an archive file: one row per event (<c>kind = 'event'</c>) and one per slot of a served
/// decision (<c>kind = 'decision'</c>). Site and day are not columns: they are the file's partition folders.
/// Order lines and a decision's items are JSON arrays in <c>items</c>.
/// </summary>
public static class ArchiveSchema
{
    public const string Columns = """
        kind VARCHAR, node VARCHAR, seq BIGINT, ts TIMESTAMP, visitor_id VARCHAR, event_id VARCHAR, type VARCHAR,
        item_id VARCHAR, quantity INTEGER, price DOUBLE, order_id VARCHAR, revenue DOUBLE, currency VARCHAR,
        customer_id VARCHAR, query VARCHAR, slot_id VARCHAR, decision_id VARCHAR, variant VARCHAR, source VARCHAR,
        items VARCHAR, url VARCHAR, device VARCHAR, referrer VARCHAR, country VARCHAR, pos INTEGER
        """;

    /// <summary>History's order: time, then the log's order (node, record, the row's position within its record).</summary>
    public const string Order = "ts, node, seq, pos";

    /// <summary>The columns read back into events, in the order <see cref="ReadEvent"/> takes them.</summary>
    public const string EventColumns = "event_id, type, visitor_id, epoch_ms(ts), item_id, quantity, price, order_id, items, revenue, currency, customer_id, query, slot_id, decision_id, variant, url, device, referrer, country";

    public static void AppendEvent(IDuckDBAppenderRow row, string node, long seq, int pos, TrackedEvent e) => row
        .AppendValue("event").AppendValue(node).AppendValue(seq).AppendValue(DateTime.UnixEpoch.AddMilliseconds(e.Timestamp))
        .AppendValue(e.VisitorId).AppendValue(e.EventId).AppendValue(EventTypes.Name(e.Type))
        .AppendValue(e.ItemId).AppendValue(e.Quantity == 0 ? null : e.Quantity).AppendValue(e.Price == 0 ? null : e.Price)
        .AppendValue(e.OrderId).AppendValue(e.Revenue == 0 ? null : e.Revenue).AppendValue(e.Currency)
        .AppendValue(e.CustomerId).AppendValue(e.Query).AppendValue(e.SlotId).AppendValue(e.DecisionId).AppendValue(e.Variant).AppendValue((string?)null)
        .AppendValue(e.Lines is { Length: > 0 } ? LinesJson(e.Lines) : null)
        .AppendValue(e.Url).AppendValue(e.Device).AppendValue(e.Referrer).AppendValue(e.Country)
        .AppendValue(pos).EndRow();

    public static void AppendDecision(IDuckDBAppenderRow row, string node, long seq, int pos, Impression impression, SlotImpression slot) => row
        .AppendValue("decision").AppendValue(node).AppendValue(seq).AppendValue(DateTime.UnixEpoch.AddMilliseconds(impression.At))
        .AppendValue(impression.VisitorId).AppendValue((string?)null).AppendValue((string?)null)
        .AppendValue((string?)null).AppendValue((int?)null).AppendValue((double?)null)
        .AppendValue((string?)null).AppendValue((double?)null).AppendValue((string?)null)
        .AppendValue((string?)null).AppendValue((string?)null).AppendValue(slot.SlotId).AppendValue(impression.DecisionId).AppendValue(slot.Variant).AppendValue(slot.Source)
        .AppendValue(slot.Items is { Length: > 0 } ? JsonSerializer.Serialize(slot.Items, ArchiveJson.Default.StringArray) : null)
        .AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null)
        .AppendValue(pos).EndRow();

    /// <summary>A change of tracking consent: <c>source</c> holds the consent (granted, denied, unknown).</summary>
    public static void AppendConsent(IDuckDBAppenderRow row, string node, long seq, int pos, PreferencesRecord preferences) => row
        .AppendValue("consent").AppendValue(node).AppendValue(seq).AppendValue(DateTime.UnixEpoch.AddMilliseconds(preferences.Preferences.UpdatedAt))
        .AppendValue(preferences.VisitorId).AppendValue((string?)null).AppendValue((string?)null)
        .AppendValue((string?)null).AppendValue((int?)null).AppendValue((double?)null)
        .AppendValue((string?)null).AppendValue((double?)null).AppendValue((string?)null)
        .AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null)
        .AppendValue(preferences.Preferences.Tracking.ToString().ToLowerInvariant())
        .AppendValue((string?)null)
        .AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null).AppendValue((string?)null)
        .AppendValue(pos).EndRow();

    /// <summary>An event from a row selected with <see cref="EventColumns"/>.</summary>
    public static TrackedEvent ReadEvent(DuckDBDataReader reader, int offset = 0) => ReadEvent(new Row(reader, offset));

    private readonly struct Row(DuckDBDataReader reader, int offset)
    {
        public bool IsDBNull(int i) => reader.IsDBNull(i + offset);
        public string GetString(int i) => reader.GetString(i + offset);
        public long GetInt64(int i) => reader.GetInt64(i + offset);
        public int GetInt32(int i) => reader.GetInt32(i + offset);
        public double GetDouble(int i) => reader.GetDouble(i + offset);
    }

    private static TrackedEvent ReadEvent(Row r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        if (!EventTypes.TryParse(r.GetString(1), out var type))
        {
            throw new InvalidDataException($"Unknown event type '{r.GetString(1)}' in the archive.");
        }
        return new TrackedEvent
        {
            EventId = r.GetString(0),
            Type = type,
            VisitorId = r.GetString(2),
            Timestamp = r.GetInt64(3),
            ItemId = Text(4),
            Quantity = r.IsDBNull(5) ? 0 : r.GetInt32(5),
            Price = r.IsDBNull(6) ? 0 : r.GetDouble(6),
            OrderId = Text(7),
            Lines = r.IsDBNull(8) ? null : JsonSerializer.Deserialize(r.GetString(8), ArchiveJson.Default.LineArray)!.Select(l => new OrderLine { ItemId = l.ItemId, Quantity = l.Quantity, Price = l.Price }).ToArray(),
            Revenue = r.IsDBNull(9) ? 0 : r.GetDouble(9),
            Currency = Text(10),
            CustomerId = Text(11),
            Query = Text(12),
            SlotId = Text(13),
            DecisionId = Text(14),
            Variant = Text(15),
            Url = Text(16),
            Device = Text(17),
            Referrer = Text(18),
            Country = Text(19),
        };
    }

    private static string LinesJson(OrderLine[] lines) =>
        JsonSerializer.Serialize(lines.Select(l => new ArchivedLine(l.ItemId, l.Quantity, l.Price)).ToArray(), ArchiveJson.Default.LineArray);
}

public sealed record ArchivedLine(string ItemId, int Quantity, double Price);

/// <summary>One slot of a served decision, as history keeps it.</summary>
public sealed record ArchivedDecision(string DecisionId, long At, string SlotId, string? Variant, string Source, string[]? Items);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ArchivedLine[]), TypeInfoPropertyName = "LineArray")]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]), TypeInfoPropertyName = "StringArray")]
internal sealed partial class ArchiveJson : System.Text.Json.Serialization.JsonSerializerContext;

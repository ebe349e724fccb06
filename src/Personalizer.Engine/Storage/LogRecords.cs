using System.Buffers.Binary;
using MessagePack;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Storage;

/// <summary>
/// One entry of the durable log. Every change of state (events, erasure, preferences, catalogue,
/// configuration) is a record: written and committed first, then applied, and replayed after a crash.
/// Union tags are stored: never renumber.
/// </summary>
[Union(1, typeof(EventBatchRecord))]
[Union(2, typeof(EraseProfileRecord))]
[Union(3, typeof(CatalogUpsertRecord))]
[Union(4, typeof(ConfigChangeRecord))]
[Union(5, typeof(PreferencesRecord))]
[Union(6, typeof(ImpressionRecord))]
[Union(7, typeof(ModelPublishedRecord))]
public abstract class LogRecord
{
    [IgnoreMember] public abstract string Site { get; }
}

[MessagePackObject]
public sealed class EventBatchRecord(string site, TrackedEvent[] events) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public TrackedEvent[] Events { get; } = events;
    [IgnoreMember] public override string Site => SiteId;
}

[MessagePackObject]
public sealed class EraseProfileRecord(string site, string visitorId, long at) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string VisitorId { get; } = visitorId;
    [Key(2)] public long At { get; } = at;
    [IgnoreMember] public override string Site => SiteId;
}

[MessagePackObject]
public sealed class CatalogUpsertRecord(string site, CatalogItem[] items) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public CatalogItem[] Items { get; } = items;
    [IgnoreMember] public override string Site => SiteId;
}

[MessagePackObject]
public sealed class ConfigChangeRecord(string site, ConfigChange change) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public ConfigChange Change { get; } = change;
    [IgnoreMember] public override string Site => SiteId;
}

[MessagePackObject]
public sealed class PreferencesRecord(string site, string visitorId, VisitorPreferences preferences) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string VisitorId { get; } = visitorId;
    [Key(2)] public VisitorPreferences Preferences { get; } = preferences;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>What a decide served; kept in the log for reports and training, never folded into a profile.</summary>
[MessagePackObject]
public sealed class ImpressionRecord(string site, string decisionId, string visitorId, long at, SlotImpression[] slots) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string DecisionId { get; } = decisionId;
    [Key(2)] public string VisitorId { get; } = visitorId;
    [Key(3)] public long At { get; } = at;
    [Key(4)] public SlotImpression[] Slots { get; } = slots;
    [IgnoreMember] public override string Site => SiteId;
}

[MessagePackObject]
public sealed class SlotImpression(string slotId, string? variant, string[]? items, string source)
{
    [Key(0)] public string SlotId { get; } = slotId;
    [Key(1)] public string? Variant { get; } = variant;
    [Key(2)] public string[]? Items { get; } = items;
    [Key(3)] public string Source { get; } = source;
}

/// <summary>A site's new model version, published to every node through the change feed (the bytes live beside it).</summary>
[MessagePackObject]
public sealed class ModelPublishedRecord(string site, string version) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string Version { get; } = version;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>
/// Reads the committed log back. Each entry is an 8-byte sequence number, then the MessagePack record;
/// sequence 0 marks a record that is never applied (an impression), skipped unread with <c>appliedOnly</c>.
/// </summary>
public static class LogReader
{
    public static IEnumerable<(long Seq, LogRecord Record)> Read(IEventLog log, long? from = null, bool appliedOnly = false, CancellationToken ct = default)
    {
        foreach (var entry in log.Scan(from ?? log.BeginAddress))
        {
            ct.ThrowIfCancellationRequested();
            var seq = BinaryPrimitives.ReadInt64LittleEndian(entry.Bytes);
            if (appliedOnly && seq == 0)
            {
                continue;
            }
            yield return (seq, MessagePackSerializer.Deserialize<LogRecord>(entry.Bytes.AsMemory(8, entry.Length - 8), cancellationToken: ct));
        }
    }
}

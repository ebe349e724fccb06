using MessagePack;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Profiles;

/// <summary>The log tags of the profile records (stored: never renumber; 6 was the unapplied impression of older builds).</summary>
public static class ProfileRecordTags
{
    public const int Events = 1;
    public const int Erase = 2;
    public const int Preferences = 5;
    public const int Impressions = 8;

    /// <summary>The profile records alone, for a reader of the log outside the service (export of a stopped node's log).</summary>
    public static RecordTypes ForReading()
    {
        var types = new RecordTypes();
        types.Register<EventBatchRecord>(Events);
        types.Register<EraseProfileRecord>(Erase);
        types.Register<PreferencesRecord>(Preferences);
        types.Register<ImpressionBatchRecord>(Impressions);
        return types;
    }
}

[MessagePackObject]
public sealed class EventBatchRecord(string site, TrackedEvent[] events) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public TrackedEvent[] Events { get; } = events;
    [IgnoreMember] public override string Site => SiteId;
    [IgnoreMember] public override int Count => Events.Length;
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
public sealed class PreferencesRecord(string site, string visitorId, VisitorPreferences preferences) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string VisitorId { get; } = visitorId;
    [Key(2)] public VisitorPreferences Preferences { get; } = preferences;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>What decides served, in a batch: applied like events (recorded in the visitors' attribution memory, counted).</summary>
[MessagePackObject]
public sealed class ImpressionBatchRecord(string site, Impression[] impressions) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public Impression[] Impressions { get; } = impressions;
    [IgnoreMember] public override string Site => SiteId;
    [IgnoreMember] public override int Count => Impressions.Length;
}

/// <summary>One served decision.</summary>
[MessagePackObject]
public sealed class Impression(string decisionId, string visitorId, long at, SlotImpression[] slots)
{
    [Key(0)] public string DecisionId { get; } = decisionId;
    [Key(1)] public string VisitorId { get; } = visitorId;
    [Key(2)] public long At { get; } = at;
    [Key(3)] public SlotImpression[] Slots { get; } = slots;

    /// <summary>The visitor's tracking consent when decided (a denied visitor's decisions are never logged; unknown in older records).</summary>
    [Key(4)] public TrackingConsent Consent { get; init; }
}

[MessagePackObject]
public sealed class SlotImpression(string slotId, string? variant, string[]? items, string source)
{
    [Key(0)] public string SlotId { get; } = slotId;
    [Key(1)] public string? Variant { get; } = variant;
    [Key(2)] public string[]? Items { get; } = items;
    [Key(3)] public string Source { get; } = source;
}

using MessagePack;

namespace Personalizer.Engine.Configuration;

/// <summary>"If <see cref="When"/> then <see cref="Then"/>" for one slot. Immutable once part of a version.</summary>
[MessagePackObject]
public sealed class RuleDefinition
{
    [Key(0)] public string Id { get; init; } = "";
    [Key(1)] public string Slot { get; init; } = "";
    /// <summary>Higher runs first; ties go to the smaller id (ordinal).</summary>
    [Key(2)] public int Priority { get; init; }
    [Key(3)] public bool Enabled { get; init; } = true;
    [Key(4)] public string When { get; init; } = "";
    [Key(5)] public RuleAction Then { get; init; } = new();
    [Key(6)] public RuleSchedule? Schedule { get; init; }
    [Key(7)] public string[] Tags { get; init; } = [];
    [Key(8)] public string? Description { get; init; }
}

[MessagePackObject]
public sealed class RuleAction
{
    /// <summary>For a content slot: the variant to show.</summary>
    [Key(0)] public string? Variant { get; init; }
    /// <summary>For a recommendations slot: only items of these categories.</summary>
    [Key(1)] public string[] IncludeCategories { get; init; } = [];
    /// <summary>For a recommendations slot: never items of these categories.</summary>
    [Key(2)] public string[] ExcludeCategories { get; init; } = [];
    /// <summary>For a recommendations slot: items of these categories first.</summary>
    [Key(3)] public string[] BoostCategories { get; init; } = [];
    /// <summary>For a recommendations slot: an item condition (<c>item.price &lt; 50 and item.attributes.organic</c>); only items it holds for.</summary>
    [Key(4)] public string? Items { get; init; }
    /// <summary>For a recommendations slot: an item condition; items it holds for come first, from the whole catalogue.</summary>
    [Key(5)] public string? BoostItems { get; init; }
}

/// <summary>When a rule may apply: local date-times in a time zone (either end open).</summary>
[MessagePackObject]
public sealed class RuleSchedule
{
    /// <summary>Local date-time, ISO 8601 without offset, e.g. 2026-12-01T00:00.</summary>
    [Key(0)] public string? From { get; init; }
    [Key(1)] public string? Until { get; init; }
    /// <summary>IANA time zone, e.g. Europe/Berlin; UTC when absent.</summary>
    [Key(2)] public string? TimeZone { get; init; }

    /// <summary>The schedule as UTC instants (unix ms), or an error naming the field.</summary>
    public (long From, long Until, string? Error) Resolve()
    {
        TimeZoneInfo zone;
        try
        {
            zone = TimeZone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return (0, 0, $"schedule.timeZone: unknown time zone '{TimeZone}'");
        }
        long Parse(string? text, long open, string name, ref string? error)
        {
            if (text is null)
            {
                return open;
            }
            if (!DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var local) || text.Contains('Z', StringComparison.Ordinal) || text.Contains('+', StringComparison.Ordinal))
            {
                error = $"schedule.{name}: expected a local date-time such as 2026-12-01T00:00 (the time zone is given apart)";
                return open;
            }
            return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), zone)).ToUnixTimeMilliseconds();
        }
        string? error = null;
        var from = Parse(From, long.MinValue, "from", ref error);
        var until = Parse(Until, long.MaxValue, "until", ref error);
        if (error is null && from >= until)
        {
            error = "schedule.until: must lie after schedule.from";
        }
        return (from, until, error);
    }
}

/// <summary>A named audience shared by rules, experiments and reports.</summary>
[MessagePackObject]
public sealed class SegmentDefinition
{
    [Key(0)] public string Id { get; init; } = "";
    [Key(1)] public string? Description { get; init; }
    [Key(2)] public string When { get; init; } = "";
}

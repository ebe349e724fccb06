using System.Globalization;

namespace Personalizer.Engine.Counters;

/// <summary>
/// The counters' layout. A slot's bag per UTC day holds, per variant and source, impressions
/// (<c>|i</c>), clicks (<c>|c</c>), conversions (<c>|v</c>) and revenue (<c>|r</c>); a site's
/// <c>slots</c> bag names every slot ever counted; an experiment run's bag holds, per arm, exposed
/// visitors (<c>|n</c>), converting visitors (<c>|x</c>), revenue (<c>|r</c>) and the sum of squared
/// revenue per visitor (<c>|r2</c>). Ids never contain <c>|</c> or <c>/</c>.
/// </summary>
public static class CounterKeys
{
    public const long DayMs = 86_400_000;

    public const string SlotIndex = "slots";

    public static long Day(long ms) => Math.DivRem(ms, DayMs, out var rest) - (rest < 0 ? 1 : 0);

    public static string Slot(string slotId, long day) => $"slot/{slotId}/{day.ToString(CultureInfo.InvariantCulture)}";

    public static string Experiment(string experimentId, long startedAt) => $"exp/{experimentId}/{startedAt.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The dimensions a slot's and an experiment's counters are also kept by: the visitor's lifecycle stage and RFM segment when shown.</summary>
    public const string ByStage = "stage";
    public const string BySegment = "segment";

    /// <summary>The segment of a visitor without orders (no RFM scores).</summary>
    public const string NoSegment = "none";

    /// <summary>The same bag for one group of a dimension, e.g. <c>slot/home-hero/20424/stage:lapsed</c>.</summary>
    public static string By(string key, string dimension, string group) => $"{key}/{dimension}:{group}";

    public const string Impressions = "i";
    public const string Clicks = "c";
    public const string Conversions = "v";
    public const string Revenue = "r";

    public const string Exposed = "n";
    public const string Converted = "x";
    public const string RevenueSquared = "r2";

    public static string Field(string variant, string source, string metric) => $"{variant}|{source}|{metric}";

    public static string ArmField(string arm, string metric) => $"{arm}|{metric}";

    /// <summary>
    /// The source as reported: rules and experiment arms keep their identity (<c>rule:vip</c>,
    /// <c>experiment:hero/B</c>); a model's version is dropped (<c>recs:20261123…</c> → <c>recommendations</c>),
    /// so retraining does not split the rows.
    /// </summary>
    public static string ReportedSource(string source) =>
        source.StartsWith("recs:", StringComparison.Ordinal) ? "recommendations" : source;

    /// <summary>The variant of an impression as reported: <c>(items)</c> for a recommendations slot.</summary>
    public static string ReportedVariant(string? variant) => variant ?? "(items)";
}

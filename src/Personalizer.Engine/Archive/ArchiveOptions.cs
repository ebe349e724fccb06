using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Archive;

/// <summary>Where the long-term history lives and how long it is kept (<c>Personalizer:Archive</c>).</summary>
public sealed class ArchiveOptions
{
    /// <summary>
    /// The archive folder; by default <c>DataPath/archive</c>. Several nodes may share one folder: each
    /// writes only its own files, and readers take them all.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>Seconds between two moves of checkpointed records from the log into the archive.</summary>
    [Range(1, 86_400)]
    public int IntervalSeconds { get; set; } = 60;
}

/// <summary>How long history and duplicate detection last (<c>Personalizer:Retention</c>).</summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// Archive days older than this many days (by the day of the records) are deleted; 0 keeps the history
    /// for ever (the default: lifetime-value models and imported order histories need years).
    /// </summary>
    [Range(0, 36_500)]
    public int Days { get; set; }

    /// <summary>
    /// Days an event id is remembered for duplicate detection (a client's retry within it is a duplicate);
    /// older claims leave the profile log when it is compacted. Redis expires them with <c>Redis:EventIdTtlDays</c>.
    /// </summary>
    [Range(1, 3650)]
    public int EventIdDays { get; set; } = 7;
}

using System.ComponentModel.DataAnnotations;

namespace Personalizer.Engine.Storage.Faster;

public sealed class FasterOptions
{
    /// <summary>
    /// Memory held by the in-memory part of the profile log, in MiB; older records live on disk (and in the operating
    /// system's page cache, which a read from the log file finds them in). With 1,000,000 profiles and visitors drawn
    /// from all of them, 64 serves as many decides as 128 with ~55 MB less resident, and a one-core p99 no worse
    /// (docs/performance.md, "The refit's and the archive pass's peaks, and 64 MiB of store memory").
    /// </summary>
    [Range(4, 1 << 20)]
    public int MemoryMb { get; set; } = 64;

    /// <summary>Page size of the profile log, in KiB; a stored record never exceeds it.</summary>
    [Range(64, 1 << 20)]
    public int PageKb { get; set; } = 1024;

    /// <summary>
    /// The part of the in-memory log where records are changed in place; the rest holds read-only pages (already
    /// written to the log file) that are still read from memory. A log checkpoint copies the in-place part.
    /// </summary>
    [Range(0.05, 1.0)]
    public double MutableFraction { get; set; } = 0.9;

    /// <summary>
    /// Write a checkpoint's pages one at a time (FASTER's checkpoint throttling) rather than all at once: each page
    /// is a blocking write-through on a pool thread, and hundreds at once hold every pool thread.
    /// </summary>
    public bool CheckpointPagesOneAtATime { get; set; } = true;

    /// <summary>Size of the hash index, in MiB (64 bytes per bucket, 7 keys per bucket before overflow): 32 MiB holds 3.5 M keys.</summary>
    [Range(1, 1 << 16)]
    public int IndexMb { get; set; } = 32;

    /// <summary>Memory of the event log's in-memory tail, in MiB.</summary>
    [Range(2, 1 << 14)]
    public int EventLogMemoryMb { get; set; } = 16;

    /// <summary>
    /// Size of one file of the event log and of the profile log, in MiB (a power of two, at least 4).
    /// Truncation and compaction free disk a whole file at a time, so this bounds what stays behind.
    /// </summary>
    [Range(4, 1 << 14)]
    public int SegmentMb { get; set; } = 64;

    /// <summary>The profile log is compacted once it is larger than this, in MiB (and than twice what stayed live at the last compaction).</summary>
    [Range(1, 1 << 20)]
    public int CompactAboveMb { get; set; } = 512;
}

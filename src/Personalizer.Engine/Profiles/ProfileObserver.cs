using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;

namespace Personalizer.Engine.Profiles;

/// <summary>
/// A projection that follows the profile records (counters, trending, triggers). The profile projection
/// calls it from the single applier, in log order; every method but <see cref="Applied"/> runs inside one
/// attempt at a record, which a write conflict repeats from <see cref="Begin"/> on fresh reads.
/// </summary>
public abstract class ProfileObserver
{
    /// <summary>An attempt at a record starts: forget what an earlier attempt gathered.</summary>
    public virtual void Begin(string site, long seq)
    {
    }

    /// <summary>An event about to be folded into the profile that holds its visitor (which may be changed here).</summary>
    public virtual void Folding(string site, TrackedEvent e, VisitorProfile holder)
    {
    }

    /// <summary>A served decision about to be recorded for the profile that holds its visitor.</summary>
    public virtual void Showing(string site, Impression impression, VisitorProfile holder)
    {
    }

    /// <summary>
    /// Before the record's profile writes: write what the attempt gathered. A checkpoint holds a prefix of
    /// the writes, so what is written here is in it whenever the profile writes after it are.
    /// </summary>
    public virtual ValueTask FlushAsync(string site, long seq) => ValueTask.CompletedTask;

    /// <summary>After the record's writes stood: an applied event (replays included), with the profile holding its visitor.</summary>
    public virtual void Applied(string site, TrackedEvent e, VisitorProfile holder, CatalogSnapshot catalog)
    {
    }

    /// <summary>
    /// A profile about to be erased (within the attempt, before <see cref="FlushAsync"/>): take back what
    /// it contributed where that is known per visitor (an experiment arm's visitor, conversion and revenue).
    /// </summary>
    public virtual void Erasing(string site, VisitorProfile holder)
    {
    }

    /// <summary>The visitor's behaviour was erased (erasure, tracking refused).</summary>
    public virtual void Forgotten(string site, string visitorId)
    {
    }
}

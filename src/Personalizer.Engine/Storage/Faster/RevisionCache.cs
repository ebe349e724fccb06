namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// The stored revision of recently read or written profiles, so that a write checks the revision it replaces
/// without reading the profile a second time: the impression of a decide is folded by a read and a write of the
/// same profile, and with a million profiles most of those reads go to the log file. Direct-mapped (a newer entry
/// replaces an older one in its place); a miss reads the profile as before. Used under the store's gate only.
/// It holds what the store holds as long as every write of a profile goes through <see cref="Set"/> after it is
/// written, every delete through <see cref="Remove"/>, and anything that rewrites the store wholesale (recovery)
/// through <see cref="Clear"/>: compaction copies records unchanged, so their revisions stay.
/// </summary>
internal sealed class RevisionCache(int capacity)
{
    private readonly Entry[] _entries = new Entry[capacity];
    private readonly int _mask = capacity - 1;

    private struct Entry
    {
        public string? Site;
        public string? Visitor;
        public long Revision;
    }

    public bool TryGet(string site, string visitor, out long revision)
    {
        ref var e = ref _entries[Slot(visitor)];
        var held = Holds(e, site, visitor);
        revision = held ? e.Revision : 0;
        return held;
    }

    public void Set(string site, string visitor, long revision) => _entries[Slot(visitor)] = new Entry { Site = site, Visitor = visitor, Revision = revision };

    public void Remove(string site, string visitor)
    {
        ref var e = ref _entries[Slot(visitor)];
        if (Holds(e, site, visitor))
        {
            e = default;
        }
    }

    public void Clear() => Array.Clear(_entries);

    private static bool Holds(in Entry e, string site, string visitor) =>
        string.Equals(e.Visitor, visitor, StringComparison.Ordinal) && string.Equals(e.Site, site, StringComparison.Ordinal);

    private int Slot(string visitor) => string.GetHashCode(visitor, StringComparison.Ordinal) & _mask;
}

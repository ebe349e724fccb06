namespace Personalizer.Engine.Crm;

/// <summary>
/// Visitor ids with one byte each, held compactly for a refit: the ids' characters in 1 MiB byte chunks (ids are ASCII,
/// <see cref="Validation.Ids"/>), and per id its offset, length, value and hash in arrays. A million ids take ~20 MB
/// here against ~100 MB as strings in a dictionary. Ids are appended without a lookup (the archive gives each visitor
/// once); <see cref="Index"/> builds the hash table that <see cref="TryClaim"/> reads.
/// </summary>
internal sealed class VisitorTable
{
    private const int ChunkBits = 20;
    private const int MaxChunks = 1 << (31 - ChunkBits);
    private readonly List<byte[]> _chunks = [];
    private int _chunkUsed = 1 << ChunkBits;
    private int[] _offset = [];
    private byte[] _length = [];
    private byte[] _value = [];
    private int[] _hash = [];
    private int[] _slots = [];

    public int Count { get; private set; }

    /// <summary>Adds an id; false (and nothing added) for one this table cannot hold: empty, longer than 255, not ASCII, or past 2 GiB of ids.</summary>
    public bool TryAdd(string id, byte value)
    {
        if (id.Length is 0 or > byte.MaxValue || !System.Text.Ascii.IsValid(id))
        {
            return false;
        }
        if (Count == _offset.Length)
        {
            var size = Math.Max(1024, Count * 2);
            Array.Resize(ref _offset, size);
            Array.Resize(ref _length, size);
            Array.Resize(ref _value, size);
            Array.Resize(ref _hash, size);
        }
        if (_chunkUsed + id.Length > 1 << ChunkBits)
        {
            if (_chunks.Count == MaxChunks)
            {
                return false; // offsets are ints: past 2 GiB of ids, the caller keeps the rest as strings
            }
            _chunks.Add(new byte[1 << ChunkBits]);
            _chunkUsed = 0;
        }
        System.Text.Ascii.FromUtf16(id, _chunks[^1].AsSpan(_chunkUsed, id.Length), out _);
        _offset[Count] = ((_chunks.Count - 1) << ChunkBits) | _chunkUsed;
        _length[Count] = (byte)id.Length;
        _value[Count] = value;
        _hash[Count] = id.GetHashCode();
        _chunkUsed += id.Length;
        Count++;
        return true;
    }

    /// <summary>Builds the lookup of every id added so far (open addressing, at most half full).</summary>
    public void Index()
    {
        var size = (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Count * 2));
        _slots = new int[size];
        for (var n = 0; n < Count; n++)
        {
            var at = _hash[n] & (size - 1);
            while (_slots[at] != 0)
            {
                at = (at + 1) & (size - 1);
            }
            _slots[at] = n + 1;
        }
    }

    /// <summary>
    /// Finds <paramref name="id"/> (after <see cref="Index"/>), gives its value and marks it claimed: claimed ids are left out of
    /// <see cref="CountUnclaimed"/>. An id found once is not found again.
    /// </summary>
    public bool TryClaim(string id, out byte value)
    {
        value = 0;
        if (_slots.Length == 0 || id.Length is 0 or > byte.MaxValue)
        {
            return false;
        }
        var hash = id.GetHashCode();
        var mask = _slots.Length - 1;
        for (var at = hash & mask; _slots[at] != 0; at = (at + 1) & mask)
        {
            var n = _slots[at] - 1;
            if (_hash[n] == hash && _length[n] == id.Length && Matches(n, id))
            {
                value = _value[n];
                _length[n] = 0; // claimed: no id is empty, so it matches nothing any more and is not counted
                return true;
            }
        }
        return false;
    }

    /// <summary>The ids not claimed, and how many of them have a value of at least <paramref name="atLeast"/>.</summary>
    public (int Ids, int AtLeast) CountUnclaimed(byte atLeast)
    {
        var (ids, over) = (0, 0);
        for (var n = 0; n < Count; n++)
        {
            if (_length[n] != 0)
            {
                ids++;
                over += _value[n] >= atLeast ? 1 : 0;
            }
        }
        return (ids, over);
    }

    private bool Matches(int n, string id) =>
        System.Text.Ascii.Equals(_chunks[_offset[n] >> ChunkBits].AsSpan(_offset[n] & ((1 << ChunkBits) - 1), id.Length), id);
}

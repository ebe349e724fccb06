namespace Personalizer.Engine.Counters;

/// <summary>
/// Where counters live, beside the profiles: in the same FASTER store (so its checkpoints cover both)
/// or in Redis hashes shared by every node. A counter is a bag of named numbers under a key; every
/// addition is exactly once per log record: a bag keeps, per node, the last sequence number added to it,
/// and a record at or below it is skipped (replay after a crash, a record re-run after a conflict).
/// </summary>
public interface ICounterStore
{
    /// <summary>Adds each delta (one per bag) to its bag unless the bag already holds record <paramref name="seq"/> of <paramref name="node"/>.</summary>
    ValueTask AddAsync(string site, IReadOnlyCollection<CounterDelta> deltas, string node, long seq, CancellationToken ct = default);

    /// <summary>The bags under <paramref name="keys"/>, in the same order; a missing bag is empty.</summary>
    ValueTask<IReadOnlyDictionary<string, double>[]> ReadAsync(string site, IReadOnlyList<string> keys, CancellationToken ct = default);
}

/// <summary>What one record adds to one bag.</summary>
public sealed class CounterDelta(string key)
{
    public string Key { get; } = key;

    public Dictionary<string, double> Fields { get; } = new(StringComparer.Ordinal);

    public void Add(string field, double value)
    {
        Fields.TryGetValue(field, out var current);
        Fields[field] = current + value;
    }
}

using System.Globalization;
using Personalizer.Engine.Counters;
using StackExchange.Redis;

namespace Personalizer.Engine.Storage.Redis;

/// <summary>
/// Counters as Redis hashes shared by every node, so every node reports the same totals. A bag is one
/// hash; an addition is one script per bag that increments its fields only when the hash's field
/// <c>@seq:NODE</c> is below the record's sequence number, and then sets it: atomic, and exactly once per
/// node's record whatever is replayed or re-run. The bags of one call are sent together (one round trip).
/// </summary>
public sealed class RedisCounterStore(RedisConnection redis) : ICounterStore
{
    // KEYS[1] the bag; ARGV[1] the node's seq field, ARGV[2] the record's seq, then field/value pairs.
    private const string AddScript = """
        local applied = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
        if applied >= tonumber(ARGV[2]) then return 0 end
        for i = 3, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """;

    private const string SeqPrefix = "@seq:";

    private RedisKey Key(string site, string key) => $"{redis.Prefix}:n:{site}:{key}";

    public async ValueTask AddAsync(string site, IReadOnlyCollection<CounterDelta> deltas, string node, long seq, CancellationToken ct = default)
    {
        var calls = new List<Task<RedisResult>>(deltas.Count);
        var seqField = SeqPrefix + node;
        foreach (var delta in deltas)
        {
            var args = new RedisValue[2 + (2 * delta.Fields.Count)];
            args[0] = seqField;
            args[1] = seq;
            var i = 2;
            foreach (var (field, value) in delta.Fields)
            {
                args[i++] = field;
                args[i++] = value.ToString("R", CultureInfo.InvariantCulture);
            }
            var key = Key(site, delta.Key);
            calls.Add(redis.CallAsync(db => db.ScriptEvaluateAsync(AddScript, [key], args)));
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<string, double>[]> ReadAsync(string site, IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        var reads = new Task<HashEntry[]>[keys.Count];
        for (var i = 0; i < reads.Length; i++)
        {
            var key = Key(site, keys[i]);
            reads[i] = redis.CallAsync(db => db.HashGetAllAsync(key));
        }
        await Task.WhenAll(reads).ConfigureAwait(false);
        var bags = new IReadOnlyDictionary<string, double>[reads.Length];
        for (var i = 0; i < reads.Length; i++)
        {
            var bag = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var entry in reads[i].Result)
            {
                var name = entry.Name.ToString();
                if (!name.StartsWith(SeqPrefix, StringComparison.Ordinal))
                {
                    bag[name] = double.Parse(entry.Value.ToString(), CultureInfo.InvariantCulture);
                }
            }
            bags[i] = bag;
        }
        return bags;
    }
}

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// A sparse user × item matrix of interaction strengths in compressed-row form, and its transpose.
/// Built once per training run; rows are users, columns items, values the summed event weights.
/// </summary>
public sealed class Interactions
{
    private Interactions(int users, int items, int[] rowStart, int[] columns, float[] values)
    {
        Users = users;
        Items = items;
        RowStart = rowStart;
        Columns = columns;
        Values = values;
    }

    public int Users { get; }
    public int Items { get; }
    public int[] RowStart { get; }
    public int[] Columns { get; }
    public float[] Values { get; }
    public int Count => Columns.Length;

    public ReadOnlySpan<int> ItemsOf(int user) => Columns.AsSpan(RowStart[user], RowStart[user + 1] - RowStart[user]);

    public ReadOnlySpan<float> ValuesOf(int user) => Values.AsSpan(RowStart[user], RowStart[user + 1] - RowStart[user]);

    /// <summary>Builds from (user, item, weight) triples; repeated pairs add up.</summary>
    public static Interactions From(int users, int items, IEnumerable<(int User, int Item, float Weight)> triples)
    {
        var rows = new Dictionary<int, float>[users];
        foreach (var (u, i, w) in triples)
        {
            var row = rows[u] ??= [];
            row.TryGetValue(i, out var current);
            row[i] = current + w;
        }
        var start = new int[users + 1];
        for (var u = 0; u < users; u++)
        {
            start[u + 1] = start[u] + (rows[u]?.Count ?? 0);
        }
        var columns = new int[start[users]];
        var values = new float[start[users]];
        for (var u = 0; u < users; u++)
        {
            if (rows[u] is not { } row)
            {
                continue;
            }
            var k = start[u];
            foreach (var (i, w) in row.OrderBy(kv => kv.Key))
            {
                columns[k] = i;
                values[k++] = w;
            }
        }
        return new Interactions(users, items, start, columns, values);
    }

    public Interactions Transpose()
    {
        var counts = new int[Items + 1];
        foreach (var i in Columns)
        {
            counts[i + 1]++;
        }
        for (var i = 0; i < Items; i++)
        {
            counts[i + 1] += counts[i];
        }
        var next = (int[])counts.Clone();
        var columns = new int[Count];
        var values = new float[Count];
        for (var u = 0; u < Users; u++)
        {
            for (var k = RowStart[u]; k < RowStart[u + 1]; k++)
            {
                var at = next[Columns[k]]++;
                columns[at] = u;
                values[at] = Values[k];
            }
        }
        return new Interactions(Items, Users, counts, columns, values);
    }
}

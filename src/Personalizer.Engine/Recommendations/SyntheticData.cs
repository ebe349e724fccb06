namespace Personalizer.Engine.Recommendations;

/// <summary>
/// Interactions with planted structure: users and items belong to one of a few hidden groups, and
/// users mostly pick (Zipf-popular) items of their own group. A model that recovers the groups
/// ranks held-out interactions far above random.
/// </summary>
public static class SyntheticData
{
    public static List<Rating> Generate(int users, int items, int interactions, int seed, int groups = 20, double inGroup = 0.9)
    {
        var random = new Random(seed);
        var itemsByGroup = new List<int>[groups];
        for (var g = 0; g < groups; g++)
        {
            itemsByGroup[g] = [];
        }
        for (var i = 0; i < items; i++)
        {
            itemsByGroup[i % groups].Add(i);
        }
        var seen = new HashSet<long>();
        var rows = new List<Rating>(interactions);
        var attempts = 0;
        while (rows.Count < interactions && attempts++ < interactions * 5)
        {
            var u = random.Next(users);
            var group = random.NextDouble() < inGroup ? u % groups : random.Next(groups);
            var pool = itemsByGroup[group];
            // Zipf-like popularity inside a group: low ranks are picked far more often.
            var rank = (int)(pool.Count * Math.Pow(random.NextDouble(), 2.5));
            var i = pool[Math.Min(rank, pool.Count - 1)];
            if (seen.Add(((long)u << 32) | (uint)i))
            {
                rows.Add(new Rating($"u{u}", $"i{i}", 1, 1_700_000_000 + rows.Count));
            }
        }
        return rows;
    }
}

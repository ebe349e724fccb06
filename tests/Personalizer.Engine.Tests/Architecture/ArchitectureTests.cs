using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Tests.Architecture;

/// <summary>
/// The Engine's folders (namespaces) form a graph without cycles: a feature can change without touching
/// the features it does not use. The root namespace is the composition (options and AddPersonalizer):
/// it may use every folder, and no folder may use it.
/// </summary>
public sealed class ArchitectureTests
{
    private const string Root = "Personalizer.Engine";

    private static DependencyGraph Engine() => DependencyGraph.FromAssembly(typeof(Ledger).Assembly.Location, Root);

    [Fact]
    public void EngineFoldersHaveNoCycles()
    {
        var graph = Engine();
        var cycles = graph.Cycles();
        Assert.True(cycles.Count == 0, "Cycles between Engine folders:\n" + string.Join("\n\n", cycles.Select(c =>
            string.Join(", ", c.Select(DependencyGraph.Show)) + "\n  " + string.Join("\n  ", graph.Explain(c)))));
    }

    [Fact]
    public void NoFolderUsesTheCompositionRoot()
    {
        var graph = Engine();
        var users = graph.Nodes.Where(n => n.Length > 0 && graph.EdgesOf(n).ContainsKey("")).Select(n => $"{n}: {graph.EdgesOf(n)[""]}").ToList();
        Assert.True(users.Count == 0, "Folders that use the root namespace:\n" + string.Join("\n", users));
    }

    [Fact]
    public void StorageAdaptersDoNotUseEachOther()
    {
        var graph = Engine();
        Assert.DoesNotContain("Storage.Redis", graph.EdgesOf("Storage.Faster").Keys);
        Assert.DoesNotContain("Storage.Faster", graph.EdgesOf("Storage.Redis").Keys);
    }

    [Fact]
    public void TheDurableLogKnowsNoFeature()
    {
        var graph = Engine();
        var uses = graph.EdgesOf("Pipeline");
        Assert.True(uses.Count == 0, "Pipeline uses:\n" + string.Join("\n", uses.Select(kv => $"{kv.Key}: {kv.Value}")));
    }

    /// <summary>Each folder's README ends with "May use: A, B" (or "(nothing)"), and the folder uses no other (its sub-folders count as itself).</summary>
    [Fact]
    public void EveryFolderUsesOnlyWhatItsReadmeAllows()
    {
        var graph = Engine();
        var source = Path.Combine(TestData.RepositoryRoot, "src", "Personalizer.Engine");
        var problems = new List<string>();
        foreach (var folder in graph.Nodes.Where(n => n.Length > 0).Select(Top).Distinct(StringComparer.Ordinal))
        {
            var readme = Path.Combine(source, folder, "README.md");
            if (!File.Exists(readme))
            {
                problems.Add($"{folder}: no README.md");
                continue;
            }
            var line = File.ReadLines(readme).LastOrDefault(l => l.StartsWith("May use:", StringComparison.Ordinal));
            if (line is null)
            {
                problems.Add($"{folder}: its README has no 'May use:' line");
                continue;
            }
            var allowed = line["May use:".Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Where(a => a != "(nothing)").ToHashSet(StringComparer.Ordinal);
            foreach (var node in graph.Nodes.Where(n => n.Length > 0 && Top(n) == folder))
            {
                foreach (var (to, example) in graph.EdgesOf(node))
                {
                    if (to.Length > 0 && Top(to) != folder && !allowed.Contains(Top(to)))
                    {
                        problems.Add($"{node} uses {Top(to)}, which its README does not allow: {example}");
                    }
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string Top(string node) => node.Split('.')[0];

    [Fact]
    public void APlantedCycleIsFound()
    {
        var graph = new DependencyGraph();
        graph.Add("Profiles", "Pipeline", "Profiles.ProfileProjection uses Pipeline.Ledger");
        graph.Add("Counters", "Profiles", "Counters.X uses Profiles.VisitorProfile");
        Assert.Empty(graph.Cycles());
        graph.Add("Pipeline", "Counters", "Pipeline.Ledger uses Counters.X");
        var cycle = Assert.Single(graph.Cycles());
        Assert.Equal(["Counters", "Pipeline", "Profiles"], cycle);
        Assert.Equal(3, graph.Explain(cycle).Count());
    }

    [Fact]
    public void TheGraphSeesReferencesInsideMethodBodies()
    {
        // Uses only inside a body (a call in a lambda of the composition) must be edges too.
        var graph = Engine();
        Assert.Contains("Pipeline", graph.EdgesOf("").Keys);
        Assert.True(graph.Nodes.Count >= 10);
    }
}

using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Personalizer.Engine.Tests.Architecture;

/// <summary>
/// Which namespace of an assembly uses which, read from the compiled metadata and IL with Mono.Cecil:
/// signatures, base types, attributes (including <c>typeof</c> arguments), locals and every type, method
/// and field an instruction names. Compiler-generated nested types (lambdas, state machines) count for
/// the type that declares them.
/// </summary>
public sealed class DependencyGraph
{
    private readonly Dictionary<string, Dictionary<string, string>> _edges = new(StringComparer.Ordinal);

    /// <summary>Namespaces (relative to the root, "" for the root itself).</summary>
    public IReadOnlyCollection<string> Nodes => _edges.Keys;

    /// <summary>The namespaces <paramref name="node"/> uses, each with one example ("A uses B").</summary>
    public IReadOnlyDictionary<string, string> EdgesOf(string node) =>
        _edges.TryGetValue(node, out var edges) ? edges : new Dictionary<string, string>();

    public void Add(string from, string to, string example)
    {
        Node(to);
        if (from != to)
        {
            Node(from).TryAdd(to, example);
        }
    }

    private Dictionary<string, string> Node(string name)
    {
        if (!_edges.TryGetValue(name, out var edges))
        {
            _edges[name] = edges = new(StringComparer.Ordinal);
        }
        return edges;
    }

    public static DependencyGraph FromAssembly(string path, string rootNamespace)
    {
        using var module = ModuleDefinition.ReadModule(path);
        var graph = new DependencyGraph();
        var own = new Dictionary<string, string>(StringComparer.Ordinal); // full name → relative namespace
        foreach (var type in module.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null)
            {
                outer = outer.DeclaringType;
            }
            if (outer.Namespace == rootNamespace || outer.Namespace.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
            {
                own[type.FullName] = outer.Namespace.Length == rootNamespace.Length ? "" : outer.Namespace[(rootNamespace.Length + 1)..];
            }
        }
        foreach (var type in module.GetTypes())
        {
            if (!own.TryGetValue(type.FullName, out var from))
            {
                continue;
            }
            graph.Node(from);
            foreach (var used in Uses(type))
            {
                if (own.TryGetValue(Unwrap(used).FullName, out var to))
                {
                    graph.Add(from, to, $"{type.FullName} uses {Unwrap(used).FullName}");
                }
            }
        }
        return graph;
    }

    /// <summary>Strongly connected groups of more than one namespace: each is a cycle.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var cycles = new List<IReadOnlyList<string>>();
        var next = 0;

        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in EdgesOf(v).Keys)
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w) && index.TryGetValue(w, out var wi))
                {
                    low[v] = Math.Min(low[v], wi);
                }
            }
            if (low[v] == index[v])
            {
                var group = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    group.Add(w);
                }
                while (w != v);
                if (group.Count > 1)
                {
                    group.Sort(StringComparer.Ordinal);
                    cycles.Add(group);
                }
            }
        }

        foreach (var v in _edges.Keys.Order(StringComparer.Ordinal).ToList())
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }
        return cycles;
    }

    /// <summary>The edges inside one cycle, with their examples: what to cut.</summary>
    public IEnumerable<string> Explain(IReadOnlyList<string> cycle)
    {
        foreach (var from in cycle)
        {
            foreach (var (to, example) in EdgesOf(from))
            {
                if (cycle.Contains(to))
                {
                    yield return $"{Show(from)} → {Show(to)}: {example}";
                }
            }
        }
    }

    public static string Show(string node) => node.Length == 0 ? "(root)" : node;

    private static TypeReference Unwrap(TypeReference type)
    {
        while (type is TypeSpecification spec)
        {
            type = spec.ElementType;
        }
        return type;
    }

    private static List<TypeReference> Uses(TypeDefinition type)
    {
        var found = new List<TypeReference>();
        Expand(type.BaseType, found);
        foreach (var i in type.Interfaces)
        {
            Expand(i.InterfaceType, found);
        }
        Attributes(type.CustomAttributes, found);
        foreach (var p in type.GenericParameters)
        {
            foreach (var c in p.Constraints)
            {
                Expand(c.ConstraintType, found);
            }
        }
        foreach (var field in type.Fields)
        {
            Expand(field.FieldType, found);
            Attributes(field.CustomAttributes, found);
        }
        foreach (var property in type.Properties)
        {
            Expand(property.PropertyType, found);
            Attributes(property.CustomAttributes, found);
        }
        foreach (var e in type.Events)
        {
            Expand(e.EventType, found);
        }
        foreach (var method in type.Methods)
        {
            Signature(method, found);
            Attributes(method.CustomAttributes, found);
            if (!method.HasBody)
            {
                continue;
            }
            foreach (var local in method.Body.Variables)
            {
                Expand(local.VariableType, found);
            }
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        Expand(t, found);
                        break;
                    case MethodReference m:
                        Expand(m.DeclaringType, found);
                        Signature(m, found);
                        if (m is GenericInstanceMethod g)
                        {
                            foreach (var a in g.GenericArguments)
                            {
                                Expand(a, found);
                            }
                        }
                        break;
                    case FieldReference f:
                        Expand(f.DeclaringType, found);
                        Expand(f.FieldType, found);
                        break;
                }
            }
        }
        return found;
    }

    private static void Signature(MethodReference method, List<TypeReference> found)
    {
        Expand(method.ReturnType, found);
        foreach (var p in method.Parameters)
        {
            Expand(p.ParameterType, found);
        }
    }

    private static void Attributes(IEnumerable<CustomAttribute> attributes, List<TypeReference> found)
    {
        foreach (var a in attributes)
        {
            Expand(a.AttributeType, found);
            foreach (var arg in a.ConstructorArguments)
            {
                if (arg.Value is TypeReference typeArg)
                {
                    Expand(typeArg, found);
                }
            }
        }
    }

    /// <summary>A type with the element types and generic arguments it is made of.</summary>
    private static void Expand(TypeReference? type, List<TypeReference> found)
    {
        switch (type)
        {
            case null or GenericParameter:
                return;
            case GenericInstanceType generic:
                Expand(generic.ElementType, found);
                foreach (var a in generic.GenericArguments)
                {
                    Expand(a, found);
                }
                return;
            case TypeSpecification spec:
                Expand(spec.ElementType, found);
                return;
            default:
                found.Add(type);
                return;
        }
    }
}

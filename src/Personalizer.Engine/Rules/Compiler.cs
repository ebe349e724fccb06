using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Personalizer.Engine.Rules;

/// <summary>A condition ready to run: its text, its tree, and a delegate that allocates nothing when called.</summary>
public sealed class CompiledCondition
{
    internal CompiledCondition(string text, Node tree, Func<EvalContext, bool> evaluate, IReadOnlyList<string> segments)
    {
        Text = text;
        Tree = tree;
        Evaluate = evaluate;
        SegmentsUsed = segments;
    }

    public string Text { get; }
    public Node Tree { get; }
    public Func<EvalContext, bool> Evaluate { get; }
    public IReadOnlyList<string> SegmentsUsed { get; }
}

public sealed record CompileResult(CompiledCondition? Condition, IReadOnlyList<ConditionError> Errors)
{
    public bool Ok => Condition is not null;
}

/// <summary>The compiled segments of one configuration version, by index (conditions call <c>segment('id')</c> by index).</summary>
public sealed class CompiledSegments
{
    private readonly CompiledCondition[] _conditions;

    private CompiledSegments(string[] ids, CompiledCondition[] conditions)
    {
        Ids = ids;
        _conditions = conditions;
        Index = ids.Select((id, i) => (id, i)).ToFrozenDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
    }

    public static CompiledSegments Empty { get; } = new([], []);

    public string[] Ids { get; }
    public FrozenDictionary<string, int> Index { get; }
    public int Count => _conditions.Length;
    public CompiledCondition this[int index] => _conditions[index];

    /// <summary>Compiles every segment; unknown references and cycles are errors, reported per segment id.</summary>
    public static (CompiledSegments Segments, Dictionary<string, IReadOnlyList<ConditionError>> Errors) Build(IReadOnlyDictionary<string, string> whenById)
    {
        var ids = whenById.Keys.Order(StringComparer.Ordinal).ToArray();
        var index = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var compiled = new CompiledCondition[ids.Length];
        var errors = new Dictionary<string, IReadOnlyList<ConditionError>>(StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            var result = ConditionCompiler.Compile(whenById[ids[i]], id => index.TryGetValue(id, out var k) ? k : null);
            if (result.Condition is null)
            {
                errors[ids[i]] = result.Errors;
                compiled[i] = ConditionCompiler.Never(whenById[ids[i]]);
            }
            else
            {
                compiled[i] = result.Condition;
            }
        }
        // A segment that reaches itself would recurse for ever: refuse it.
        foreach (var id in ids)
        {
            if (!errors.ContainsKey(id) && ReachesItself(id, compiled, index))
            {
                errors[id] = [new ConditionError(1, 1, $"segment '{id}' refers back to itself through segment(...) calls")];
            }
        }
        return (new CompiledSegments(ids, compiled), errors);
    }

    private static bool ReachesItself(string start, CompiledCondition[] compiled, Dictionary<string, int> index)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(compiled[index[start]].SegmentsUsed);
        while (stack.Count > 0)
        {
            var id = stack.Pop();
            if (id == start)
            {
                return true;
            }
            if (seen.Add(id) && index.TryGetValue(id, out var i))
            {
                foreach (var next in compiled[i].SegmentsUsed)
                {
                    stack.Push(next);
                }
            }
        }
        return false;
    }
}

/// <summary>Type-checks a parsed condition against <see cref="Fields"/> and compiles it to delegates.</summary>
public static class ConditionCompiler
{
    /// <summary>
    /// Patterns run on the non-backtracking engine (linear in the input, so no catastrophic
    /// backtracking); the time-out is the second guard, and a match that hits it counts as no match.
    /// </summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    public static readonly IReadOnlyDictionary<string, string> Functions = new Dictionary<string, string>
    {
        ["segment('id')"] = "true when the visitor is in the named segment",
        ["viewed('item or category', 7d)"] = "true when the visitor viewed the item, or an item of the category, within the duration (the duration is optional)",
        ["inCart('item or category')"] = "true when the item, or an item of the category, is in the cart",
        ["purchased('item or category')"] = "true when the visitor bought the item, or an item of the category",
    };

    /// <summary>
    /// Parses, type-checks and compiles; <paramref name="segmentIndex"/> resolves <c>segment('id')</c> (null: unknown).
    /// With <paramref name="items"/> the condition is about one catalogue item at a time and may read
    /// <c>item.*</c> (a rule's <c>then.items</c> and <c>then.boostItems</c>).
    /// </summary>
    public static CompileResult Compile(string text, Func<string, int?> segmentIndex, bool items = false)
    {
        var (tree, error) = Parser.Parse(text);
        if (tree is null)
        {
            return new CompileResult(null, [error!]);
        }
        try
        {
            var segments = new List<string>();
            var typed = Builder.Truthy(new Builder(segmentIndex, segments, items).Build(tree));
            if (typed.Type != ConditionType.Bool)
            {
                throw Error(tree, $"expected a condition that is true or false, found a {Name(typed.Type)}");
            }
            return new CompileResult(new CompiledCondition(text, tree, typed.Bool!, segments), []);
        }
        catch (ConditionException ex)
        {
            return new CompileResult(null, [ex.Error]);
        }
    }

    internal static CompiledCondition Never(string text) => new(text, new BoolLiteral(new Position(1, 1), false), static _ => false, []);

    internal static string Name(ConditionType t) => t switch
    {
        ConditionType.Bool => "true/false value",
        ConditionType.Number => "number",
        ConditionType.Text => "string",
        ConditionType.Duration => "duration",
        ConditionType.StringList => "list of strings",
        _ => "list of numbers",
    };

    internal static ConditionException Error(Node at, string message) => new(new ConditionError(at.At.Line, at.At.Column, message));

    /// <summary>A typed, compiled piece of a condition.</summary>
    private sealed class Typed
    {
        public required ConditionType Type;
        public Func<EvalContext, bool>? Bool;
        public Func<EvalContext, double>? Number;
        public Func<EvalContext, string>? Text;
        public Func<EvalContext, string, bool>? Has;
        public string? ConstText;
        public double? ConstNumber;
        public string[]? Strings;
        public double[]? Numbers;
        public TimeSpan Duration;
        /// <summary>For <c>item.attributes.NAME</c>: the name; the type follows what it is compared with.</summary>
        public string? Attribute;
    }

    private sealed class Builder(Func<string, int?> segmentIndex, List<string> segments, bool items)
    {
        public Typed Build(Node node) => node switch
        {
            StringLiteral s => new Typed { Type = ConditionType.Text, Text = Const(s.Value), ConstText = s.Value },
            NumberLiteral n => new Typed { Type = ConditionType.Number, Number = Const(n.Value), ConstNumber = n.Value },
            BoolLiteral b => new Typed { Type = ConditionType.Bool, Bool = b.Value ? static _ => true : static _ => false },
            DurationLiteral d => new Typed { Type = ConditionType.Duration, Duration = d.Value },
            ListLiteral l => List(l),
            FieldRef f => Field(f),
            FunctionCall c => Function(c),
            Negation n => Not(n),
            Binary b when b.Operator is "and" or "or" => Logical(b),
            Binary b => Compare(b),
            _ => throw Error(node, "unsupported expression"),
        };

        private static Func<EvalContext, string> Const(string v) => _ => v;
        private static Func<EvalContext, double> Const(double v) => _ => v;

        private static Typed List(ListLiteral l)
        {
            if (l.Items.Count == 0 || l.Items.All(i => i is StringLiteral))
            {
                return new Typed { Type = ConditionType.StringList, Strings = [.. l.Items.Cast<StringLiteral>().Select(s => s.Value)] };
            }
            if (l.Items.All(i => i is NumberLiteral))
            {
                return new Typed { Type = ConditionType.NumberList, Numbers = [.. l.Items.Cast<NumberLiteral>().Select(n => n.Value)] };
            }
            throw Error(l, "a list holds either strings or numbers, not both");
        }

        private Typed Field(FieldRef f)
        {
            if (f.Path.StartsWith("item.", StringComparison.Ordinal))
            {
                return ItemField(f);
            }
            var field = Fields.All.GetValueOrDefault(f.Path) ?? Fields.Dynamic(f.Path);
            if (field is null)
            {
                var nearest = Fields.Nearest(f.Path);
                throw Error(f, $"unknown field '{f.Path}'" + (nearest is null ? "; see docs/conditions.md for the fields" : $"; did you mean '{nearest}'?"));
            }
            return new Typed { Type = field.Type, Number = field.Number, Text = field.Text, Bool = field.Flag, Has = field.Has };
        }

        private Typed ItemField(FieldRef f)
        {
            if (!items)
            {
                throw Error(f, $"'{f.Path}' is a field of a catalogue item: only a recommendation rule's then.items and then.boostItems read items");
            }
            if (f.Path.StartsWith(ItemFields.AttributePrefix, StringComparison.Ordinal) && f.Path.Length > ItemFields.AttributePrefix.Length)
            {
                var name = f.Path[ItemFields.AttributePrefix.Length..];
                return new Typed { Type = ConditionType.Text, Text = c => ItemFields.FirstValue(c, name), Attribute = name };
            }
            if (ItemFields.All.GetValueOrDefault(f.Path) is not { } field)
            {
                throw Error(f, $"unknown field '{f.Path}'; an item has {string.Join(", ", ItemFields.All.Keys)} and item.attributes.NAME");
            }
            return new Typed { Type = field.Type, Number = field.Number, Text = field.Text, Bool = field.Flag, Has = field.Has };
        }

        /// <summary>An item attribute standing alone as a condition (<c>item.attributes.organic and …</c>) is true when it is true.</summary>
        public static Typed Truthy(Typed typed) => typed.Attribute is null ? typed : Adopt(typed, new Typed { Type = ConditionType.Bool }, "==");

        /// <summary>An item attribute takes the type of what it is compared with (a missing or unreadable value never matches an order).</summary>
        private static Typed Adopt(Typed attribute, Typed other, string op)
        {
            var name = attribute.Attribute!;
            if (op == "contains")
            {
                return new Typed { Type = ConditionType.StringList, Has = (c, v) => ItemFields.HasValue(c, name, v) };
            }
            return other.Type switch
            {
                ConditionType.Number or ConditionType.NumberList => new Typed { Type = ConditionType.Number, Number = c => ItemFields.NumberValue(c, name) },
                ConditionType.Bool => new Typed { Type = ConditionType.Bool, Bool = c => string.Equals(ItemFields.FirstValue(c, name), "true", StringComparison.Ordinal) },
                _ => attribute,
            };
        }

        private Typed Not(Negation n)
        {
            var operand = Truthy(Build(n.Operand));
            Require(n.Operand, operand, ConditionType.Bool, "'not'");
            var f = operand.Bool!;
            return new Typed { Type = ConditionType.Bool, Bool = c => !f(c) };
        }

        private Typed Logical(Binary b)
        {
            var left = Truthy(Build(b.Left));
            var right = Truthy(Build(b.Right));
            Require(b.Left, left, ConditionType.Bool, $"'{b.Operator}'");
            Require(b.Right, right, ConditionType.Bool, $"'{b.Operator}'");
            var l = left.Bool!;
            var r = right.Bool!;
            return new Typed { Type = ConditionType.Bool, Bool = b.Operator == "and" ? c => l(c) && r(c) : c => l(c) || r(c) };
        }

        private static void Require(Node node, Typed typed, ConditionType type, string where)
        {
            if (typed.Type != type)
            {
                throw Error(node, $"{where} needs a {Name(type)} here, found a {Name(typed.Type)}");
            }
        }

        private Typed Compare(Binary b)
        {
            var left = Build(b.Left);
            var right = Build(b.Right);
            if (left.Attribute is not null && right.Attribute is null)
            {
                left = Adopt(left, right, b.Operator);
            }
            else if (right.Attribute is not null && left.Attribute is null)
            {
                right = Adopt(right, left, b.Operator);
            }
            Func<EvalContext, bool> result = b.Operator switch
            {
                "==" or "!=" => Equality(b, left, right),
                "<" or "<=" or ">" or ">=" => Order(b, left, right),
                "in" => In(b, left, right),
                "contains" => Contains(b, left, right),
                "startsWith" or "endsWith" => Affix(b, left, right),
                "matches" => Matches(b, left, right),
                _ => throw Error(b, $"unknown operator '{b.Operator}'"),
            };
            return new Typed { Type = ConditionType.Bool, Bool = result };
        }

        private static Func<EvalContext, bool> Equality(Binary b, Typed left, Typed right)
        {
            var negate = b.Operator == "!=";
            if (negate && left.Type == right.Type && left.Type == ConditionType.Text && right.ConstText is { } other)
            {
                var f = left.Text!;
                return c => !string.Equals(f(c), other, StringComparison.OrdinalIgnoreCase);
            }
            if (left.Type != right.Type || left.Type is not (ConditionType.Text or ConditionType.Number or ConditionType.Bool))
            {
                throw Mismatch(b, left, right);
            }
            Func<EvalContext, bool> eq;
            // A literal on either side is read once here, not called at every evaluation.
            if (left.Type == ConditionType.Text)
            {
                var (field, constant) = right.ConstText is not null ? (left, right.ConstText) : left.ConstText is not null ? (right, left.ConstText) : (null, null);
                if (field is not null)
                {
                    var f = field.Text!;
                    eq = c => string.Equals(f(c), constant, StringComparison.OrdinalIgnoreCase);
                }
                else
                {
                    var l = left.Text!;
                    var r = right.Text!;
                    eq = c => string.Equals(l(c), r(c), StringComparison.OrdinalIgnoreCase);
                }
            }
            else if (left.Type == ConditionType.Number)
            {
                var l = left.Number!;
                var r = right.Number!;
                if (right.ConstNumber is { } k)
                {
                    eq = c => l(c) == k;
                }
                else
                {
                    eq = c => l(c) == r(c);
                }
            }
            else
            {
                var l = left.Bool!;
                var r = right.Bool!;
                eq = c => l(c) == r(c);
            }
            return negate ? c => !eq(c) : eq;
        }

        private static Func<EvalContext, bool> Order(Binary b, Typed left, Typed right)
        {
            if (left.Type == ConditionType.Number && right.Type == ConditionType.Number)
            {
                var l = left.Number!;
                var r = right.Number!;
                if (right.ConstNumber is { } k)
                {
                    return b.Operator switch
                    {
                        "<" => c => l(c) < k,
                        "<=" => c => l(c) <= k,
                        ">" => c => l(c) > k,
                        _ => c => l(c) >= k,
                    };
                }
                return b.Operator switch
                {
                    "<" => c => l(c) < r(c),
                    "<=" => c => l(c) <= r(c),
                    ">" => c => l(c) > r(c),
                    _ => c => l(c) >= r(c),
                };
            }
            if (left.Type == ConditionType.Text && right.Type == ConditionType.Text)
            {
                var l = left.Text!;
                var r = right.Text!;
                return b.Operator switch
                {
                    "<" => c => string.CompareOrdinal(l(c), r(c)) < 0,
                    "<=" => c => string.CompareOrdinal(l(c), r(c)) <= 0,
                    ">" => c => string.CompareOrdinal(l(c), r(c)) > 0,
                    _ => c => string.CompareOrdinal(l(c), r(c)) >= 0,
                };
            }
            throw Mismatch(b, left, right);
        }

        private static Func<EvalContext, bool> In(Binary b, Typed left, Typed right)
        {
            if (left.Type == ConditionType.Text && right.Type == ConditionType.StringList)
            {
                var l = left.Text!;
                var values = right.Strings!;
                if (values.Length <= 8)
                {
                    // A short list is faster to scan than to hash case-insensitively.
                    return c =>
                    {
                        var v = l(c);
                        foreach (var candidate in values)
                        {
                            if (string.Equals(v, candidate, StringComparison.OrdinalIgnoreCase))
                            {
                                return true;
                            }
                        }
                        return false;
                    };
                }
                var set = values.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                return c => set.Contains(l(c));
            }
            if (left.Type == ConditionType.Number && right.Type == ConditionType.NumberList)
            {
                var l = left.Number!;
                var values = right.Numbers!;
                return c => Array.IndexOf(values, l(c)) >= 0;
            }
            throw Error(b, $"'in' needs a value on the left and a list of the same type on the right, found a {Name(left.Type)} and a {Name(right.Type)}");
        }

        private static Func<EvalContext, bool> Contains(Binary b, Typed left, Typed right)
        {
            if (left.Type == ConditionType.Text && right.Type == ConditionType.Text)
            {
                var l = left.Text!;
                var r = right.Text!;
                return c => l(c).Contains(r(c), StringComparison.OrdinalIgnoreCase);
            }
            if (left.Type == ConditionType.StringList && right.Type == ConditionType.Text && left.Has is { } has)
            {
                var r = right.Text!;
                return c => has(c, r(c));
            }
            if (left.Type == ConditionType.StringList && right.Type == ConditionType.Text)
            {
                var set = left.Strings!.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                var r = right.Text!;
                return c => set.Contains(r(c));
            }
            throw Error(b, $"'contains' needs a string or a list on the left and a string on the right, found a {Name(left.Type)} and a {Name(right.Type)}");
        }

        private static Func<EvalContext, bool> Affix(Binary b, Typed left, Typed right)
        {
            if (left.Type != ConditionType.Text || right.Type != ConditionType.Text)
            {
                throw Mismatch(b, left, right);
            }
            var l = left.Text!;
            if (right.ConstText is { } affix)
            {
                return b.Operator == "startsWith"
                    ? c => l(c).StartsWith(affix, StringComparison.OrdinalIgnoreCase)
                    : c => l(c).EndsWith(affix, StringComparison.OrdinalIgnoreCase);
            }
            var r = right.Text!;
            return b.Operator == "startsWith"
                ? c => l(c).StartsWith(r(c), StringComparison.OrdinalIgnoreCase)
                : c => l(c).EndsWith(r(c), StringComparison.OrdinalIgnoreCase);
        }

        private static Func<EvalContext, bool> Matches(Binary b, Typed left, Typed right)
        {
            if (left.Type != ConditionType.Text || right.ConstText is null)
            {
                throw Error(b, "'matches' needs a string on the left and a regular expression written as a string literal on the right");
            }
            Regex regex;
            try
            {
                regex = new Regex(right.ConstText, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.NonBacktracking, RegexTimeout);
            }
            catch (ArgumentException ex)
            {
                throw Error(b.Right, $"expected a valid regular expression: {ex.Message}");
            }
            catch (NotSupportedException ex)
            {
                throw Error(b.Right, $"this regular expression is not supported (no backreferences or lookarounds): {ex.Message}");
            }
            // The engine builds its automaton lazily: build it now, not on a visitor's request.
            regex.IsMatch("warm-up: https://example.com/path?query=1");
            var l = left.Text!;
            return c =>
            {
                try
                {
                    return regex.IsMatch(l(c));
                }
                catch (RegexMatchTimeoutException)
                {
                    return false;
                }
            };
        }

        private Typed Function(FunctionCall call)
        {
            string Arg(int i)
            {
                if (i >= call.Arguments.Count || call.Arguments[i] is not StringLiteral s)
                {
                    throw Error(i < call.Arguments.Count ? call.Arguments[i] : call, $"{call.Function}(...) needs a string literal as argument {i + 1}");
                }
                return s.Value;
            }
            void Arity(int min, int max)
            {
                if (call.Arguments.Count < min || call.Arguments.Count > max)
                {
                    throw Error(call, $"{call.Function}(...) takes {(min == max ? min.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{min} or {max}")} argument(s), found {call.Arguments.Count}");
                }
            }

            switch (call.Function)
            {
                case "segment":
                {
                    Arity(1, 1);
                    var id = Arg(0);
                    var index = segmentIndex(id) ?? throw Error(call.Arguments[0], $"unknown segment '{id}'");
                    segments.Add(id);
                    return new Typed { Type = ConditionType.Bool, Bool = c => c.Segment(index) };
                }
                case "viewed":
                {
                    Arity(1, 2);
                    var value = Arg(0);
                    var window = long.MaxValue;
                    if (call.Arguments.Count == 2)
                    {
                        if (call.Arguments[1] is not DurationLiteral d)
                        {
                            throw Error(call.Arguments[1], "viewed(...) takes a duration such as 7d as argument 2");
                        }
                        window = (long)d.Value.TotalMilliseconds;
                    }
                    return new Typed
                    {
                        Type = ConditionType.Bool,
                        Bool = c =>
                        {
                            foreach (var v in c.Profile?.RecentlyViewed ?? [])
                            {
                                if (c.NowMs - v.At <= window && Fields.Matches(c.Catalog, v.ItemId, value))
                                {
                                    return true;
                                }
                            }
                            return false;
                        },
                    };
                }
                case "inCart":
                {
                    Arity(1, 1);
                    var value = Arg(0);
                    return new Typed
                    {
                        Type = ConditionType.Bool,
                        Bool = c =>
                        {
                            foreach (var line in c.Profile?.Cart ?? [])
                            {
                                if (Fields.Matches(c.Catalog, line.ItemId, value))
                                {
                                    return true;
                                }
                            }
                            return false;
                        },
                    };
                }
                case "purchased":
                {
                    Arity(1, 1);
                    var value = Arg(0);
                    return new Typed
                    {
                        Type = ConditionType.Bool,
                        Bool = c =>
                        {
                            foreach (var id in c.Profile?.PurchasedItems ?? [])
                            {
                                if (Fields.Matches(c.Catalog, id, value))
                                {
                                    return true;
                                }
                            }
                            return false;
                        },
                    };
                }
                default:
                    throw Error(call, $"unknown function '{call.Function}'; expected one of: segment, viewed, inCart, purchased");
            }
        }

        private static ConditionException Mismatch(Binary b, Typed left, Typed right) =>
            Error(b, left.Type == right.Type
                ? $"'{b.Operator}' cannot compare two values of type {Name(left.Type)}"
                : $"'{b.Operator}' cannot compare a {Name(left.Type)} with a {Name(right.Type)}");
    }
}

using CsCheck;
using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Tests.Rules;

/// <summary>
/// Random and mutated input never makes the parser or compiler throw or hang; printed trees parse
/// back to the same tree.
/// </summary>
public sealed class ParserPropertyTests
{
    private static readonly string[] Seeds =
    [
        "profile.orders >= 3 and context.device == 'mobile'",
        "profile.cart.value > 100 and not segment('employees')",
        "profile.affinity.top == 'running' or context.url startsWith '/sale'",
        "viewed('running', 7d) and inCart('sku-1') and context.country in ['DE', 'AT']",
        "context.url matches '^/p/[0-9]+$' or (now.hour >= 18 and now.weekday != 'sunday')",
    ];

    private static readonly Gen<char> Chars = Gen.OneOf<char>(
        Gen.Char['a', 'z'], Gen.Char['0', '9'],
        Gen.OneOf(' ', '(', ')', '[', ']', '\'', '"', '.', ',', '=', '!', '<', '>', '\n', '\\', '-', '_', '&', '|'));

    private static readonly Gen<string> Words = Gen.OneOf(
        "and ", "or ", "not ", " in ", " contains ", " startsWith ", " matches ", "==", "!=", ">=", "profile.", "context.",
        "segment(", "viewed(", "7d", "'x'", "3.5", "true", "(", ")", "[", "]", ",");

    private static readonly Gen<string> Noise = Gen.OneOf<string>(Chars.Select(c => c.ToString()), Words).Array[0, 60].Select(parts => string.Concat(parts));

    private static readonly Gen<string> Mutated =
        Gen.Select(Gen.OneOf(Seeds), Gen.Int[0, 80], Gen.Int[0, 6], Noise, (seed, at, cut, insert) =>
        {
            var i = Math.Min(at, seed.Length);
            var j = Math.Min(seed.Length, i + cut);
            return seed[..i] + insert + seed[j..];
        });

    [Fact]
    public void RandomInputGivesOnlyCompileErrors()
    {
        Gen.OneOf<string>(Noise, Mutated).Sample(text =>
        {
            var result = ConditionCompiler.Compile(text, id => id == "employees" ? 0 : null);
            return result.Ok || result.Errors.Count == 1 && result.Errors[0].Line >= 1 && result.Errors[0].Column >= 1;
        }, iter: 20_000, time: 5);
    }

    private static readonly Gen<string> Field = Gen.OneOf("profile.orders", "profile.cart.value", "context.device", "now.hour", "profile.affinity.top");

    private static Gen<Node> Tree(int depth)
    {
        var at = new Position(1, 1);
        var leaf = Gen.OneOf<Node>(
            Gen.String[Gen.Char['a', 'z'], 0, 8].Select(s => (Node)new StringLiteral(at, s)),
            Gen.Int[0, 100_000].Select(n => (Node)new NumberLiteral(at, n / 8.0)),
            Gen.Bool.Select(b => (Node)new BoolLiteral(at, b)),
            Field.Select(f => (Node)new FieldRef(at, f)),
            Gen.Int[1, 99].Select(n => (Node)new DurationLiteral(at, n, "d")),
            Gen.String[Gen.Char['a', 'z'], 1, 5].Array[0, 3].Select(xs => (Node)new ListLiteral(at, [.. xs.Select(x => (Node)new StringLiteral(at, x))])));
        if (depth == 0)
        {
            return leaf;
        }
        var sub = Tree(depth - 1);
        return Gen.Frequency(
            (3, leaf),
            (2, Gen.Select(Gen.OneOf("and", "or", "==", "!=", "<", ">=", "in", "contains", "startsWith", "matches"), sub, sub, (op, l, r) => (Node)new Binary(at, op, l, r))),
            (1, sub.Select(n => (Node)new Negation(at, n))),
            (1, Gen.Select(Gen.OneOf("segment", "viewed", "inCart"), sub.Array[0, 2], (f, args) => (Node)new FunctionCall(at, f, args))));
    }

    [Fact]
    public void APrintedConditionParsesBackToTheSameTree()
    {
        Tree(4).Sample(tree =>
        {
            var text = tree.ToString();
            var (parsed, error) = Parser.Parse(text);
            return error is null && parsed!.SameAs(tree);
        }, iter: 5_000, print: t => t.ToString());
    }

    [Fact]
    public void NumbersPrintInvariantly()
    {
        Assert.Equal("3.5", new NumberLiteral(new Position(1, 1), 3.5).ToString());
        Assert.Equal("0.125", new NumberLiteral(new Position(1, 1), 0.125).ToString());
    }
}

using System.Globalization;
using System.Text;

namespace Personalizer.Engine.Rules;

/// <summary>Where a piece of a condition starts: 1-based line and column.</summary>
public readonly record struct Position(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}

/// <summary>A compile error: where, and what was expected and found.</summary>
public sealed record ConditionError(int Line, int Column, string Message)
{
    public override string ToString() => $"line {Line}, column {Column}: {Message}";
}

/// <summary>The syntax tree. Records compare by value, so a printed and re-parsed condition can be compared with the original.</summary>
public abstract record Node(Position At)
{
    /// <summary>The canonical text of the node; parsing it gives the same tree (positions aside).</summary>
    public abstract void Print(StringBuilder sb);

    public sealed override string ToString()
    {
        var sb = new StringBuilder();
        Print(sb);
        return sb.ToString();
    }

    /// <summary>Structural equality that ignores positions.</summary>
    public abstract bool SameAs(Node other);
}

public sealed record StringLiteral(Position At, string Value) : Node(At)
{
    public override void Print(StringBuilder sb) => sb.Append('\'').Append(Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)).Append('\'');
    public override bool SameAs(Node other) => other is StringLiteral o && o.Value == Value;
}

public sealed record NumberLiteral(Position At, double Value) : Node(At)
{
    public override void Print(StringBuilder sb) => sb.Append(Value.ToString("R", CultureInfo.InvariantCulture));
    public override bool SameAs(Node other) => other is NumberLiteral o && o.Value.Equals(Value);
}

public sealed record BoolLiteral(Position At, bool Value) : Node(At)
{
    public override void Print(StringBuilder sb) => sb.Append(Value ? "true" : "false");
    public override bool SameAs(Node other) => other is BoolLiteral o && o.Value == Value;
}

/// <summary>A duration such as <c>7d</c>, kept in its written unit so it prints back the same.</summary>
public sealed record DurationLiteral(Position At, long Amount, string Unit) : Node(At)
{
    public TimeSpan Value => Unit switch
    {
        "ms" => TimeSpan.FromMilliseconds(Amount),
        "s" => TimeSpan.FromSeconds(Amount),
        "m" => TimeSpan.FromMinutes(Amount),
        "h" => TimeSpan.FromHours(Amount),
        "d" => TimeSpan.FromDays(Amount),
        _ => TimeSpan.FromDays(7 * Amount),
    };

    public override void Print(StringBuilder sb) => sb.Append(Amount.ToString(CultureInfo.InvariantCulture)).Append(Unit);
    public override bool SameAs(Node other) => other is DurationLiteral o && o.Amount == Amount && o.Unit == Unit;
}

public sealed record ListLiteral(Position At, IReadOnlyList<Node> Items) : Node(At)
{
    public override void Print(StringBuilder sb)
    {
        sb.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            Items[i].Print(sb);
        }
        sb.Append(']');
    }

    public override bool SameAs(Node other) =>
        other is ListLiteral o && o.Items.Count == Items.Count && Items.Select((n, i) => n.SameAs(o.Items[i])).All(b => b);
}

public sealed record FieldRef(Position At, string Path) : Node(At)
{
    public override void Print(StringBuilder sb) => sb.Append(Path);
    public override bool SameAs(Node other) => other is FieldRef o && o.Path == Path;
}

public sealed record FunctionCall(Position At, string Function, IReadOnlyList<Node> Arguments) : Node(At)
{
    public override void Print(StringBuilder sb)
    {
        sb.Append(Function).Append('(');
        for (var i = 0; i < Arguments.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            Arguments[i].Print(sb);
        }
        sb.Append(')');
    }

    public override bool SameAs(Node other) =>
        other is FunctionCall o && o.Function == Function && o.Arguments.Count == Arguments.Count && Arguments.Select((n, i) => n.SameAs(o.Arguments[i])).All(b => b);
}

public sealed record Negation(Position At, Node Operand) : Node(At)
{
    public override void Print(StringBuilder sb)
    {
        // Parenthesized: 'not' binds more loosely than a comparison, so "not a == b" would read differently.
        sb.Append("(not ");
        Operand.Print(sb);
        sb.Append(')');
    }

    public override bool SameAs(Node other) => other is Negation o && o.Operand.SameAs(Operand);
}

/// <summary><c>and</c>, <c>or</c>, and the comparison operators; printed in parentheses so that printing never depends on precedence.</summary>
public sealed record Binary(Position At, string Operator, Node Left, Node Right) : Node(At)
{
    public override void Print(StringBuilder sb)
    {
        sb.Append('(');
        Left.Print(sb);
        sb.Append(' ').Append(Operator).Append(' ');
        Right.Print(sb);
        sb.Append(')');
    }

    public override bool SameAs(Node other) => other is Binary o && o.Operator == Operator && o.Left.SameAs(Left) && o.Right.SameAs(Right);
}

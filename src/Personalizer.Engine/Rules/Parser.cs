using System.Globalization;

namespace Personalizer.Engine.Rules;

/// <summary>
/// A hand-written recursive-descent parser for the condition language (grammar in docs/conditions.md).
/// Linear in the input, nesting bounded, and every failure a <see cref="ConditionError"/> with its
/// position and what was expected and found — never an exception to the caller.
/// </summary>
public sealed class Parser
{
    public const int MaxLength = 4096;
    public const int MaxDepth = 48;

    private static readonly string[] ComparisonOperators = ["==", "!=", "<", "<=", ">", ">=", "in", "contains", "startsWith", "endsWith", "matches"];

    private readonly List<Token> _tokens;
    private int _next;
    private int _depth;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static (Node? Tree, ConditionError? Error) Parse(string text)
    {
        if (text.Length > MaxLength)
        {
            return (null, new ConditionError(1, 1, $"a condition may have at most {MaxLength} characters"));
        }
        try
        {
            var parser = new Parser(Lexer.Tokenize(text));
            var tree = parser.Or();
            var end = parser.Peek;
            if (end.Kind != TokenKind.End)
            {
                throw Fail(end, "'and', 'or', an operator or the end of the condition");
            }
            return (tree, null);
        }
        catch (ConditionException ex)
        {
            return (null, ex.Error);
        }
    }

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private bool TakeWord(string word)
    {
        if (Peek.Kind == TokenKind.Word && Peek.Text == word)
        {
            _next++;
            return true;
        }
        return false;
    }

    private Node Or()
    {
        Enter();
        var left = And();
        while (Peek.Kind == TokenKind.Word && Peek.Text == "or")
        {
            var at = Take().At;
            left = new Binary(at, "or", left, And());
        }
        _depth--;
        return left;
    }

    private Node And()
    {
        var left = Unary();
        while (Peek.Kind == TokenKind.Word && Peek.Text == "and")
        {
            var at = Take().At;
            left = new Binary(at, "and", left, Unary());
        }
        return left;
    }

    private Node Unary()
    {
        if (Peek.Kind == TokenKind.Word && Peek.Text == "not")
        {
            var at = Take().At;
            Enter();
            var operand = Unary();
            _depth--;
            return new Negation(at, operand);
        }
        return Comparison();
    }

    private Node Comparison()
    {
        var left = Primary();
        var op = Peek;
        if ((op.Kind == TokenKind.Symbol || op.Kind == TokenKind.Word) && Array.IndexOf(ComparisonOperators, op.Text) >= 0)
        {
            _next++;
            var right = Primary();
            return new Binary(op.At, op.Text, left, right);
        }
        return left;
    }

    private Node Primary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.String:
                _next++;
                return new StringLiteral(t.At, t.Text);
            case TokenKind.Number:
                _next++;
                return new NumberLiteral(t.At, t.Number);
            case TokenKind.Duration:
                _next++;
                return new DurationLiteral(t.At, (long)t.Number, t.Text);
            case TokenKind.Symbol when t.Text == "(":
            {
                _next++;
                var inner = Or();
                Expect(")");
                return inner;
            }
            case TokenKind.Symbol when t.Text == "[":
                return List();
            case TokenKind.Word when t.Text is "true" or "false":
                _next++;
                return new BoolLiteral(t.At, t.Text == "true");
            case TokenKind.Word when !IsKeyword(t.Text):
                return FieldOrCall();
            default:
                throw Fail(t, "a value: a field, a string, a number, a duration, a list, a function call or '('");
        }
    }

    private ListLiteral List()
    {
        var at = Take().At;
        var items = new List<Node>();
        if (Peek.Kind == TokenKind.Symbol && Peek.Text == "]")
        {
            _next++;
            return new ListLiteral(at, items);
        }
        while (true)
        {
            var t = Peek;
            if (t.Kind is not (TokenKind.String or TokenKind.Number))
            {
                throw Fail(t, "a string or a number in the list");
            }
            items.Add(Primary());
            if (items.Count > 1000)
            {
                throw Fail(t, "at most 1000 list entries");
            }
            if (Peek.Kind == TokenKind.Symbol && Peek.Text == ",")
            {
                _next++;
                continue;
            }
            Expect("]", "',' or ']'");
            return new ListLiteral(at, items);
        }
    }

    private Node FieldOrCall()
    {
        var first = Take();
        var path = first.Text;
        if (Peek.Kind == TokenKind.Symbol && Peek.Text == "(")
        {
            _next++;
            var args = new List<Node>();
            if (!(Peek.Kind == TokenKind.Symbol && Peek.Text == ")"))
            {
                while (true)
                {
                    args.Add(Or());
                    if (Peek.Kind == TokenKind.Symbol && Peek.Text == ",")
                    {
                        _next++;
                        continue;
                    }
                    break;
                }
            }
            Expect(")", "',' or ')'");
            return new FunctionCall(first.At, path, args);
        }
        while (Peek.Kind == TokenKind.Symbol && Peek.Text == ".")
        {
            _next++;
            var part = Peek;
            if (part.Kind != TokenKind.Word)
            {
                throw Fail(part, "a field name after '.'");
            }
            _next++;
            path += "." + part.Text;
        }
        return new FieldRef(first.At, path);
    }

    private void Expect(string symbol, string? expected = null)
    {
        var t = Peek;
        if (t.Kind == TokenKind.Symbol && t.Text == symbol)
        {
            _next++;
            return;
        }
        throw Fail(t, expected ?? $"'{symbol}'");
    }

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw Fail(Peek, $"at most {MaxDepth} levels of nesting");
        }
    }

    private static bool IsKeyword(string word) => word is "and" or "or" or "not" or "in" or "contains" or "startsWith" or "endsWith" or "matches";

    private static ConditionException Fail(Token found, string expected) =>
        new(new ConditionError(found.At.Line, found.At.Column, $"expected {expected}, found {Describe(found)}"));

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the condition",
        TokenKind.String => $"the string '{Short(t.Text)}'",
        TokenKind.Number => $"the number {t.Number.ToString(CultureInfo.InvariantCulture)}",
        TokenKind.Duration => $"the duration {t.Number.ToString(CultureInfo.InvariantCulture)}{t.Text}",
        _ => $"'{Short(t.Text)}'",
    };

    private static string Short(string s) => s.Length <= 30 ? s : s[..30] + "…";
}

internal sealed class ConditionException(ConditionError error) : Exception(error.ToString())
{
    public ConditionError Error { get; } = error;
}

internal enum TokenKind
{
    Word,
    String,
    Number,
    Duration,
    Symbol,
    End,
}

internal readonly record struct Token(TokenKind Kind, string Text, double Number, Position At);

internal static class Lexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1, column = 1;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                if (text[i] == '\n')
                {
                    line++;
                    column = 1;
                }
                else
                {
                    column++;
                }
                i++;
            }
            var at = new Position(line, column);
            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", 0, at));
                return tokens;
            }
            var c = text[i];
            var start = i;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(TokenKind.Word, text[start..i], 0, at));
            }
            else if (char.IsAsciiDigit(c))
            {
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
                {
                    i++;
                }
                var digits = text[start..i];
                if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number) || digits.EndsWith('.'))
                {
                    throw new ConditionException(new ConditionError(line, column, $"expected a number, found '{digits}'"));
                }
                var unitStart = i;
                while (i < text.Length && char.IsAsciiLetter(text[i]))
                {
                    i++;
                }
                var unit = text[unitStart..i];
                if (unit.Length == 0)
                {
                    tokens.Add(new Token(TokenKind.Number, digits, number, at));
                }
                else if (unit is "ms" or "s" or "m" or "h" or "d" or "w" && number == Math.Floor(number) && number <= 100_000)
                {
                    tokens.Add(new Token(TokenKind.Duration, unit, number, at));
                }
                else
                {
                    throw new ConditionException(new ConditionError(line, column + (unitStart - start), $"expected a duration unit (ms, s, m, h, d, w) after a whole number up to 100000, found '{unit}'"));
                }
            }
            else if (c is '\'' or '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length || text[i] == '\n')
                    {
                        throw new ConditionException(new ConditionError(line, column, $"expected the closing {c} of this string, found the end of the line"));
                    }
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        sb.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }
                    if (text[i] == c)
                    {
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                tokens.Add(new Token(TokenKind.String, sb.ToString(), 0, at));
            }
            else
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                if (two is "==" or "!=" or "<=" or ">=")
                {
                    i += 2;
                    tokens.Add(new Token(TokenKind.Symbol, two, 0, at));
                }
                else if (c is '<' or '>' or '(' or ')' or '[' or ']' or ',' or '.')
                {
                    i++;
                    tokens.Add(new Token(TokenKind.Symbol, c.ToString(), 0, at));
                }
                else
                {
                    var hint = two is "&&" ? " (write 'and')" : two is "||" ? " (write 'or')" : c == '!' ? " (write 'not' or '!=')" : c == '=' ? " (write '==')" : "";
                    throw new ConditionException(new ConditionError(line, column, $"expected an operator or a value, found '{c}'{hint}"));
                }
            }
            column += i - start;
        }
    }
}

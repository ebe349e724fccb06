using System.Collections.Frozen;
using System.Globalization;

namespace Personalizer.Engine.Rules;

/// <summary>
/// The fields of a catalogue item (<c>item.*</c>), readable only by item conditions: a recommendation
/// rule's <c>then.items</c> (keep the items it holds for) and <c>then.boostItems</c> (list them first).
/// </summary>
public static class ItemFields
{
    public const string AttributePrefix = "item.attributes.";

    public static FrozenDictionary<string, FieldInfo> All { get; } = Build().ToFrozenDictionary(f => f.Path, StringComparer.Ordinal);

    private static IEnumerable<FieldInfo> Build()
    {
        yield return new("item.id", ConditionType.Text, "the item id") { Text = c => c.Item?.Id ?? "" };
        yield return new("item.title", ConditionType.Text, "the item's title") { Text = c => c.Item?.Title ?? "" };
        yield return new("item.brand", ConditionType.Text, "the item's brand, else ''") { Text = c => c.Item?.Brand ?? "" };
        yield return new("item.category", ConditionType.Text, "the item's first category, else ''") { Text = c => c.Item?.PrimaryCategory ?? "" };
        yield return new("item.price", ConditionType.Number, "the item's price") { Number = c => c.Item?.Price ?? double.NaN };
        yield return new("item.inStock", ConditionType.Bool, "true when the item is in stock") { Flag = c => c.Item?.InStock ?? false };
        yield return new("item.categories", ConditionType.StringList, "the item's categories") { Has = (c, v) => Any(c.Item?.Categories, v) };
        yield return new("item.tags", ConditionType.StringList, "the item's tags") { Has = (c, v) => Any(c.Item?.Tags, v) };
    }

    /// <summary>The attribute's first value as text ('' when the item has none).</summary>
    internal static string FirstValue(EvalContext c, string name) =>
        c.Item is { } item && item.AttributeValues.TryGetValue(name, out var values) && values.Length > 0 ? values[0] : "";

    /// <summary>The attribute as a number (NaN when absent or not a number, so no order comparison holds).</summary>
    internal static double NumberValue(EvalContext c, string name) =>
        double.TryParse(FirstValue(c, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    /// <summary>Whether any of the attribute's values (a list's items, or the one value) equals <paramref name="value"/>, ignoring case.</summary>
    internal static bool HasValue(EvalContext c, string name, string value) =>
        c.Item is { } item && item.AttributeValues.TryGetValue(name, out var values) && Any(values, value);

    private static bool Any(string[]? values, string value)
    {
        foreach (var v in values ?? [])
        {
            if (string.Equals(v, value, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}

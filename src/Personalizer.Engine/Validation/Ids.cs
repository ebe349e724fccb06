using System.Buffers;

namespace Personalizer.Engine.Validation;

/// <summary>The rule every id (site, visitor, customer, event, item, slot, variant, order) follows.</summary>
public static class Ids
{
    public const int MaxLength = 128;
    public const string Rule = "1 to 128 characters: letters, digits and - _ . : @ +";

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@+");

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && !id.AsSpan().ContainsAnyExcept(Allowed);
}

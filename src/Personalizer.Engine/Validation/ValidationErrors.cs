namespace Personalizer.Engine.Validation;

/// <summary>Problems found in an input, each with the path of the field (e.g. <c>events[3].itemId</c>).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>Messages so far, over every path.</summary>
    public int Count { get; private set; }

    public void Add(string path, string message)
    {
        if (!_errors.TryGetValue(path, out var list))
        {
            _errors[path] = list = [];
        }
        list.Add(message);
        Count++;
    }

    /// <summary>Checks an id; <paramref name="required"/> false lets null through.</summary>
    public bool Id(string path, string? value, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                Add(path, "is required");
            }
            return !required;
        }
        if (!Ids.IsValid(value))
        {
            Add(path, $"must be {Ids.Rule}");
            return false;
        }
        return true;
    }

    /// <summary>The longest category or brand name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// A category or brand name as shops write them ("Children's", "Home & Garden"): any printable
    /// text, already trimmed (<see cref="TrimName"/>), not empty, at most <see cref="MaxNameLength"/>.
    /// </summary>
    public bool Name(string path, string? value)
    {
        if (value is null)
        {
            Add(path, "is required");
            return false;
        }
        if (value.Length == 0)
        {
            Add(path, "must not be empty");
            return false;
        }
        if (value.Length > MaxNameLength)
        {
            Add(path, $"must be at most {MaxNameLength} characters");
            return false;
        }
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                Add(path, "must not contain control characters");
                return false;
            }
        }
        return true;
    }

    /// <summary>A name with surrounding white space removed; null stays null.</summary>
    public static string? TrimName(string? value) => value?.Trim();

    public void Text(string path, string? value, int maxLength, bool required = false)
    {
        if (value is null)
        {
            if (required)
            {
                Add(path, "is required");
            }
            return;
        }
        if (value.Length > maxLength)
        {
            Add(path, $"must be at most {maxLength} characters");
        }
        else if (required && string.IsNullOrWhiteSpace(value))
        {
            Add(path, "must not be empty");
        }
        else if (value.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0)
        {
            Add(path, "must not contain control characters");
        }
    }

    public void Number(string path, double value, double min, double max)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            Add(path, $"must be a finite number from {min} to {max}");
        }
    }

    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
}

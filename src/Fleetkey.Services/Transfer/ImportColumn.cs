namespace Fleetkey.Services.Transfer;

/// <summary>
/// What one column of an imported row must hold: its kind (text or integer), whether it may be null,
/// and a rule for its value that returns what is wrong (null when nothing is). A secret column's value
/// is never quoted in a problem.
/// </summary>
internal sealed record ImportColumn(string Name, bool IsInteger, bool Nullable, Func<string, string?>? TextRule, Func<long, string?>? IntegerRule, bool Secret)
{
    public static ImportColumn Text(string name, Func<string, string?> rule, bool nullable = false, bool secret = false) =>
        new(name, IsInteger: false, nullable, rule, null, secret);

    public static ImportColumn Integer(string name, Func<long, string?> rule, bool nullable = false) =>
        new(name, IsInteger: true, nullable, null, rule, Secret: false);

    /// <summary>What is wrong with <paramref name="value"/> (a string, a long or null), or null.</summary>
    public string? Problem(object? value)
    {
        switch (value)
        {
            case null:
                return Nullable ? null : "must not be null";
            case long number when IsInteger:
                return IntegerRule?.Invoke(number);
            case string text when !IsInteger:
                // PostgreSQL cannot store U+0000 in text, and no rule of the product admits it.
                var problem = text.Contains('\0', StringComparison.Ordinal) ? "contains a NUL character" : TextRule?.Invoke(text);

                // A secret's rule does not quote it; should one ever do, the value is still withheld.
                return Secret && problem is not null && text.Length > 0 && problem.Contains(text, StringComparison.Ordinal)
                    ? problem.Replace(text, "(withheld)", StringComparison.Ordinal)
                    : problem;
            default:
                return IsInteger ? "must be an integer" : "must be text";
        }
    }
}

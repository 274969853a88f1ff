using System.Net;

namespace Fleetkey.Policies;

/// <summary>
/// One condition key under one operator, its values read once for the operator's family: patterns for
/// the string, Bool and ARN operators (which may name policy variables), ranges, numbers and dates for
/// the others (which may not: a <c>${…}</c> there is text, and no range, number or date).
/// </summary>
/// <remarks>A value the family cannot read is dropped here: it never matches.</remarks>
internal sealed class CompiledCondition
{
    public CompiledCondition(string operatorName, string key, IReadOnlyList<string> texts, bool substitute)
    {
        // A statement built by hand rather than parsed may name any operator: it decides nothing.
        Known = ConditionOperator.TryParse(operatorName, out var op);
        Operator = op;
        Key = key;
        Texts = texts;
        switch (op.Family)
        {
            case ConditionFamily.String or ConditionFamily.StringIgnoreCase or ConditionFamily.StringLike or ConditionFamily.Bool:
                Patterns = [.. texts.Select(v => PolicyPattern.Compile(v, substitute, ignoreCase: false))];
                break;
            case ConditionFamily.Arn:
                Arns = [.. texts.Select(v => ArnPattern.Compile(v, substitute)).OfType<ArnPattern>()];
                break;
            case ConditionFamily.IpAddress:
                Ranges = [.. texts.Select(v => ConditionValues.TryParseRange(v, out var range) ? range : (IPNetwork?)null).OfType<IPNetwork>()];
                break;
            case ConditionFamily.Numeric:
                Numbers = [.. texts.Select(v => ConditionValues.TryParseNumber(v, out var n) ? n : (decimal?)null).OfType<decimal>()];
                break;
            case ConditionFamily.Date:
                Dates = [.. texts.Select(v => ConditionValues.TryParseDate(v, out var d) ? d : (DateTimeOffset?)null).OfType<DateTimeOffset>()];
                break;
        }
    }

    /// <summary>False when the operator is not one IAM defines; such a condition is never decided.</summary>
    public bool Known { get; }

    public ConditionOperator Operator { get; }

    public string Key { get; }

    /// <summary>The values as written (the Null operator reads them as "true" or "false").</summary>
    public IReadOnlyList<string> Texts { get; }

    public PolicyPattern[] Patterns { get; } = [];

    public ArnPattern[] Arns { get; } = [];

    public IPNetwork[] Ranges { get; } = [];

    public decimal[] Numbers { get; } = [];

    public DateTimeOffset[] Dates { get; } = [];

    /// <summary>
    /// Whether any value matches the request's <paramref name="actual"/> value, negation aside; null when
    /// the value is not one the operator can read (not an address, number, date or ARN) or the operator
    /// is not decided here (BinaryEquals).
    /// </summary>
    public bool? AnyValueMatches(string actual, IReadOnlyDictionary<string, string> variables) => Operator.Family switch
    {
        ConditionFamily.String => AnyEqual(actual, variables, StringComparison.Ordinal),
        ConditionFamily.StringIgnoreCase or ConditionFamily.Bool => AnyEqual(actual, variables, StringComparison.OrdinalIgnoreCase),
        ConditionFamily.StringLike => AnyLike(actual, variables),
        ConditionFamily.Arn => AnyArn(actual, variables),
        ConditionFamily.IpAddress => ConditionValues.TryParseAddress(actual, out var address) ? AnyRange(address) : null,
        ConditionFamily.Numeric => ConditionValues.TryParseNumber(actual, out var number) ? AnyNumber(number) : null,
        ConditionFamily.Date => ConditionValues.TryParseDate(actual, out var date) ? AnyDate(date) : null,
        _ => null,
    };

    // String values may name policy variables; one naming an absent variable matches nothing.
    private bool AnyEqual(string actual, IReadOnlyDictionary<string, string> variables, StringComparison comparison)
    {
        foreach (var pattern in Patterns)
        {
            if (pattern.EqualsText(actual, variables, comparison))
            {
                return true;
            }
        }

        return false;
    }

    private bool AnyLike(string actual, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var pattern in Patterns)
        {
            if (pattern.Matches(actual, variables, ignoreCase: false) == true)
            {
                return true;
            }
        }

        return false;
    }

    private bool? AnyArn(string actual, IReadOnlyDictionary<string, string> variables)
    {
        Span<Range> components = stackalloc Range[ArnPattern.Components];
        if (!ArnPattern.TrySplit(actual, components))
        {
            return null;
        }

        foreach (var arn in Arns)
        {
            if (arn.Matches(actual, components, variables))
            {
                return true;
            }
        }

        return false;
    }

    private bool AnyRange(IPAddress address)
    {
        foreach (var range in Ranges)
        {
            if (ConditionValues.Contains(range, address))
            {
                return true;
            }
        }

        return false;
    }

    private bool AnyNumber(decimal actual)
    {
        foreach (var number in Numbers)
        {
            if (Holds(actual.CompareTo(number)))
            {
                return true;
            }
        }

        return false;
    }

    private bool AnyDate(DateTimeOffset actual)
    {
        foreach (var date in Dates)
        {
            if (Holds(actual.CompareTo(date)))
            {
                return true;
            }
        }

        return false;
    }

    // The request's value compared with a policy value (negative: less) against the operator's comparison.
    private bool Holds(int order) => Operator.Comparison switch
    {
        ConditionComparison.LessThan => order < 0,
        ConditionComparison.LessThanOrEqual => order <= 0,
        ConditionComparison.GreaterThan => order > 0,
        ConditionComparison.GreaterThanOrEqual => order >= 0,
        _ => order == 0,
    };
}

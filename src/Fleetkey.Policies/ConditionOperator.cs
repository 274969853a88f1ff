using System.Collections.Frozen;

namespace Fleetkey.Policies;

/// <summary>What a condition operator compares its values as.</summary>
internal enum ConditionFamily
{
    String,
    StringIgnoreCase,
    StringLike,
    Numeric,
    Date,
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

/// <summary>How the request's value stands to a policy value for the condition to match.</summary>
internal enum ConditionComparison
{
    Equal,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

/// <summary>
/// An IAM condition operator's name, read once (reference_policies_elements_condition_operators): its
/// family and comparison, whether it is negated (it then matches when no value matches, and when the
/// key is absent), the <c>IfExists</c> suffix (any operator but Null) and a <c>ForAllValues:</c> or
/// <c>ForAnyValue:</c> set qualifier.
/// </summary>
internal readonly record struct ConditionOperator(
    ConditionFamily Family, ConditionComparison Comparison, bool Negated, bool IfExists, bool SetQualified)
{
    private const string IfExistsSuffix = "IfExists";

    private static readonly string[] SetQualifiers = ["ForAllValues:", "ForAnyValue:"];

    private static readonly FrozenDictionary<string, ConditionOperator> Operators = new Dictionary<string, ConditionOperator>(StringComparer.Ordinal)
    {
        ["StringEquals"] = Of(ConditionFamily.String),
        ["StringNotEquals"] = Of(ConditionFamily.String, negated: true),
        ["StringEqualsIgnoreCase"] = Of(ConditionFamily.StringIgnoreCase),
        ["StringNotEqualsIgnoreCase"] = Of(ConditionFamily.StringIgnoreCase, negated: true),
        ["StringLike"] = Of(ConditionFamily.StringLike),
        ["StringNotLike"] = Of(ConditionFamily.StringLike, negated: true),
        ["NumericEquals"] = Of(ConditionFamily.Numeric),
        ["NumericNotEquals"] = Of(ConditionFamily.Numeric, negated: true),
        ["NumericLessThan"] = Of(ConditionFamily.Numeric, ConditionComparison.LessThan),
        ["NumericLessThanEquals"] = Of(ConditionFamily.Numeric, ConditionComparison.LessThanOrEqual),
        ["NumericGreaterThan"] = Of(ConditionFamily.Numeric, ConditionComparison.GreaterThan),
        ["NumericGreaterThanEquals"] = Of(ConditionFamily.Numeric, ConditionComparison.GreaterThanOrEqual),
        ["DateEquals"] = Of(ConditionFamily.Date),
        ["DateNotEquals"] = Of(ConditionFamily.Date, negated: true),
        ["DateLessThan"] = Of(ConditionFamily.Date, ConditionComparison.LessThan),
        ["DateLessThanEquals"] = Of(ConditionFamily.Date, ConditionComparison.LessThanOrEqual),
        ["DateGreaterThan"] = Of(ConditionFamily.Date, ConditionComparison.GreaterThan),
        ["DateGreaterThanEquals"] = Of(ConditionFamily.Date, ConditionComparison.GreaterThanOrEqual),
        ["Bool"] = Of(ConditionFamily.Bool),
        ["BinaryEquals"] = Of(ConditionFamily.Binary),
        ["IpAddress"] = Of(ConditionFamily.IpAddress),
        ["NotIpAddress"] = Of(ConditionFamily.IpAddress, negated: true),

        // "The ArnEquals and ArnLike condition operators behave identically", and so do their negations.
        ["ArnEquals"] = Of(ConditionFamily.Arn),
        ["ArnLike"] = Of(ConditionFamily.Arn),
        ["ArnNotEquals"] = Of(ConditionFamily.Arn, negated: true),
        ["ArnNotLike"] = Of(ConditionFamily.Arn, negated: true),
        ["Null"] = Of(ConditionFamily.Null),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Reads an operator name; false for a name IAM does not define (NullIfExists included).</summary>
    public static bool TryParse(string name, out ConditionOperator result)
    {
        var rest = name;
        var setQualified = false;
        foreach (var qualifier in SetQualifiers)
        {
            if (rest.StartsWith(qualifier, StringComparison.Ordinal))
            {
                rest = rest[qualifier.Length..];
                setQualified = true;
                break;
            }
        }

        var ifExists = rest.EndsWith(IfExistsSuffix, StringComparison.Ordinal);
        if (ifExists)
        {
            rest = rest[..^IfExistsSuffix.Length];
        }

        if (!Operators.TryGetValue(rest, out result) || (ifExists && result.Family == ConditionFamily.Null))
        {
            result = default;
            return false;
        }

        result = result with { IfExists = ifExists, SetQualified = setQualified };
        return true;
    }

    private static ConditionOperator Of(ConditionFamily family, ConditionComparison comparison = ConditionComparison.Equal, bool negated = false) =>
        new(family, comparison, negated, IfExists: false, SetQualified: false);
}

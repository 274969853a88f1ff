namespace Fleetkey.Policies;

/// <summary>
/// A value of the ARN condition operators: "Each of the six colon-delimited components of the ARN is
/// checked separately and each can include multi-character match wildcards (*) or single-character
/// match wildcards (?)", case-sensitively. The resource, the sixth component, keeps any further colons
/// on both sides, so a <c>*</c> matches colons only there.
/// </summary>
/// <remarks>
/// A value that is not an ARN (fewer than six components, or not starting with <c>arn</c>) matches
/// nothing. Values may name policy variables (2012-10-17): a colon inside <c>${…}</c> does not split.
/// </remarks>
internal sealed class ArnPattern
{
    public const int Components = 6;

    private readonly PolicyPattern[] _components;

    private ArnPattern(PolicyPattern[] components) => _components = components;

    /// <summary>The value's pattern, or null when it is not an ARN (it never matches).</summary>
    public static ArnPattern? Compile(string value, bool substitute)
    {
        Span<Range> ranges = stackalloc Range[Components];
        if (!TrySplit(value, substitute, ranges))
        {
            return null;
        }

        var components = new PolicyPattern[Components];
        for (var i = 0; i < Components; i++)
        {
            components[i] = PolicyPattern.Compile(value[ranges[i]], substitute, ignoreCase: false);
        }

        return new ArnPattern(components);
    }

    /// <summary>Splits a request's ARN into its six components; false when it is not an ARN.</summary>
    public static bool TrySplit(ReadOnlySpan<char> arn, Span<Range> ranges) => TrySplit(arn, substitute: false, ranges);

    /// <summary>Whether the ARN, split by <see cref="TrySplit(ReadOnlySpan{char}, Span{Range})"/>, matches; a value naming an absent variable matches nothing.</summary>
    public bool Matches(ReadOnlySpan<char> arn, ReadOnlySpan<Range> ranges, IReadOnlyDictionary<string, string> variables)
    {
        for (var i = 0; i < Components; i++)
        {
            if (_components[i].Matches(arn[ranges[i]], variables, ignoreCase: false) != true)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TrySplit(ReadOnlySpan<char> text, bool substitute, Span<Range> ranges)
    {
        var count = 0;
        var start = 0;
        for (var i = 0; i < text.Length && count < Components - 1; i++)
        {
            // As PolicyPattern reads variables: "${" up to the next "}", or a literal "$" when none follows.
            if (substitute && text[i] == '$' && i + 1 < text.Length && text[i + 1] == '{' && text[(i + 2)..].IndexOf('}') is >= 0 and var end)
            {
                i += end + 2;
                continue;
            }

            if (text[i] == ':')
            {
                ranges[count++] = start..i;
                start = i + 1;
            }
        }

        ranges[count++] = start..text.Length;
        return count == Components && text[ranges[0]].SequenceEqual("arn");
    }
}

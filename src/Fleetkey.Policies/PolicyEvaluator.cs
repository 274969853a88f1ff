namespace Fleetkey.Policies;

/// <summary>
/// Decides whether parsed IoT policies allow an action on a resource, with IAM's evaluation logic:
/// denied unless some statement allows it, and an explicit Deny wins over any Allow.
/// </summary>
/// <remarks>
/// <para>Actions match case-insensitively and resources case-sensitively, with <c>*</c> (any run of
/// characters) and <c>?</c> (one character). MQTT's <c>+</c> and <c>#</c> are literal, as AWS IoT documents.</para>
/// <para>In documents of Version 2012-10-17, <c>${name}</c> in a resource is replaced by
/// <c>variables[name]</c> (for example <c>iot:ClientId</c>, <c>iot:Connection.Thing.ThingName</c>) before
/// matching, and the substituted text is literal: a client ID of <c>*</c> matches only <c>*</c>.
/// <c>${*}</c>, <c>${?}</c> and <c>${$}</c> stand for those characters. Under 2008-10-17 variables are
/// plain text, as IAM documents.</para>
/// <para>Fail closed where the request lacks what a statement needs: a statement whose resource names a
/// variable absent from the variables dictionary, or whose condition cannot be decided, never allows,
/// and a Deny statement in that state still denies.</para>
/// <para>The variables dictionary holds policy variables and condition keys by name, without <c>${}</c>.</para>
/// </remarks>
public static class PolicyEvaluator
{
    private const int AnyRun = -1;
    private const int AnyOne = -2;

    /// <param name="variables">Policy variables and condition keys by name, without <c>${}</c>.</param>
    public static bool IsAllowed(
        IEnumerable<PolicyDocument> policies, string action, string resource, IReadOnlyDictionary<string, string> variables)
        => Decide(policies, action, resource, variables) == PolicyDecision.Allowed;

    /// <summary>
    /// Allowed, denied by an explicit Deny (which wins), or denied because nothing allows it; as
    /// TestAuthorization reports it.
    /// </summary>
    public static PolicyDecision Decide(
        IEnumerable<PolicyDocument> policies, string action, string resource, IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(variables);

        var allowed = false;
        foreach (var policy in policies)
        {
            var substitute = string.Equals(policy.Version, PolicyDocumentParser.CurrentVersion, StringComparison.Ordinal);
            foreach (var statement in policy.Statements)
            {
                var applies = Applies(statement, action, resource, variables, substitute);
                if (statement.Effect == PolicyEffect.Deny && applies != Match.No)
                {
                    return PolicyDecision.ExplicitDeny;
                }

                allowed |= statement.Effect == PolicyEffect.Allow && applies == Match.Yes;
            }
        }

        return allowed ? PolicyDecision.Allowed : PolicyDecision.ImplicitDeny;
    }

    private enum Match
    {
        No,
        Yes,
        Undecided,
    }

    private static Match Applies(
        PolicyStatement statement, string action, string resource, IReadOnlyDictionary<string, string> variables, bool substitute)
    {
        var actionMatches = statement.Actions.Count > 0
            ? statement.Actions.Any(a => ActionMatches(a, action))
            : !statement.NotActions.Any(a => ActionMatches(a, action));
        if (!actionMatches)
        {
            return Match.No;
        }

        var resourceMatch = statement.Resources.Count > 0
            ? Any(statement.Resources, resource, variables, substitute)
            : Not(Any(statement.NotResources, resource, variables, substitute));
        if (resourceMatch == Match.No)
        {
            return Match.No;
        }

        var conditionMatch = Conditions(statement.Conditions, variables, substitute);
        return resourceMatch == Match.Undecided || conditionMatch == Match.Undecided
            ? (conditionMatch == Match.No ? Match.No : Match.Undecided)
            : conditionMatch;
    }

    private static Match Not(Match m) => m switch
    {
        Match.Yes => Match.No,
        Match.No => Match.Yes,
        _ => Match.Undecided,
    };

    private static Match Any(IReadOnlyList<string> patterns, string resource, IReadOnlyDictionary<string, string> variables, bool substitute)
    {
        var result = Match.No;
        foreach (var pattern in patterns)
        {
            var compiled = Compile(pattern, variables, substitute);
            if (compiled is null)
            {
                result = Match.Undecided;
            }
            else if (Glob(compiled, resource, ignoreCase: false))
            {
                return Match.Yes;
            }
        }

        return result;
    }

    private static bool ActionMatches(string pattern, string action)
        => Glob(Compile(pattern, EmptyVariables, substitute: false)!, action, ignoreCase: true);

    private static readonly Dictionary<string, string> EmptyVariables = new(StringComparer.Ordinal);

    // Turns a pattern into code points, with AnyRun/AnyOne for wildcards; substituted values stay literal.
    // Null when the pattern names a variable the request does not have.
    private static int[]? Compile(string pattern, IReadOnlyDictionary<string, string> variables, bool substitute)
    {
        var result = new List<int>(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (substitute && c == '$' && i + 1 < pattern.Length && pattern[i + 1] == '{')
            {
                var end = pattern.IndexOf('}', i + 2);
                if (end > 0)
                {
                    var name = pattern[(i + 2)..end];
                    string? value = name switch
                    {
                        "*" or "?" or "$" => name,
                        _ => variables.TryGetValue(name, out var v) ? v : null,
                    };
                    if (value is null)
                    {
                        return null;
                    }

                    foreach (var ch in value)
                    {
                        result.Add(ch);
                    }

                    i = end;
                    continue;
                }
            }

            result.Add(c switch
            {
                '*' => AnyRun,
                '?' => AnyOne,
                _ => c,
            });
        }

        return [.. result];
    }

    // Iterative wildcard match with single-star backtracking: linear in practice, no regex.
    private static bool Glob(int[] pattern, string text, bool ignoreCase)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == AnyRun)
            {
                starP = p++;
                starT = t;
            }
            else if (p < pattern.Length && (pattern[p] == AnyOne || Same(pattern[p], text[t], ignoreCase)))
            {
                p++;
                t++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == AnyRun)
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static bool Same(int p, char c, bool ignoreCase)
        => p == c || (ignoreCase && char.ToUpperInvariant((char)p) == char.ToUpperInvariant(c));

    // Conditions: each operator, and each key within it, must hold (AND); values of one key are OR-ed.
    // Keys are looked up in the same dictionary as policy variables. Only the string, Bool and Null
    // families are decided here; any other operator leaves the statement undecided (fail closed).
    private static Match Conditions(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>> conditions,
        IReadOnlyDictionary<string, string> variables, bool substitute)
    {
        var result = Match.Yes;
        foreach (var (op, keys) in conditions)
        {
            foreach (var (key, values) in keys)
            {
                var m = Condition(op, variables.TryGetValue(key, out var actual) ? actual : null, values, variables, substitute);
                if (m == Match.No)
                {
                    return Match.No;
                }

                if (m == Match.Undecided)
                {
                    result = Match.Undecided;
                }
            }
        }

        return result;
    }

    private static Match Condition(
        string op, string? actual, IReadOnlyList<string> values, IReadOnlyDictionary<string, string> variables, bool substitute)
    {
        if (op.StartsWith("For", StringComparison.Ordinal))
        {
            return Match.Undecided;
        }

        var ifExists = op.EndsWith("IfExists", StringComparison.Ordinal);
        if (ifExists)
        {
            op = op[..^"IfExists".Length];
        }

        if (op == "Null")
        {
            // "true" asks that the key be absent, "false" that it be present.
            return values.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase) == (actual is null))
                ? Match.Yes : Match.No;
        }

        if (actual is null)
        {
            return ifExists ? Match.Yes : (op.Contains("Not", StringComparison.Ordinal) ? Match.Yes : Match.No);
        }

        // Condition values may name policy variables too; a value naming an absent variable matches nothing.
        bool Equal(string v, StringComparison comparison)
            => Compile(v, variables, substitute) is { } c
               && string.Equals(new string([.. c.Select(x => x switch { AnyRun => '*', AnyOne => '?', _ => (char)x })]), actual, comparison);
        bool Like(string v) => Compile(v, variables, substitute) is { } c && Glob(c, actual, ignoreCase: false);

        return op switch
        {
            "StringEquals" => Of(values.Any(v => Equal(v, StringComparison.Ordinal))),
            "StringNotEquals" => Of(!values.Any(v => Equal(v, StringComparison.Ordinal))),
            "StringEqualsIgnoreCase" => Of(values.Any(v => Equal(v, StringComparison.OrdinalIgnoreCase))),
            "StringNotEqualsIgnoreCase" => Of(!values.Any(v => Equal(v, StringComparison.OrdinalIgnoreCase))),
            "StringLike" => Of(values.Any(Like)),
            "StringNotLike" => Of(!values.Any(Like)),
            "Bool" => Of(values.Any(v => Equal(v, StringComparison.OrdinalIgnoreCase))),
            _ => Match.Undecided,
        };

        static Match Of(bool b) => b ? Match.Yes : Match.No;
    }
}

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
/// <para>The broker decides on every packet, with resources a device chooses: matching costs
/// O(resource × ⌈segment/64⌉) whatever the pattern (<see cref="Wildcard"/>), and a statement's patterns
/// are read once (<see cref="CompiledStatement"/>).</para>
/// </remarks>
public static class PolicyEvaluator
{
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
            for (var i = 0; i < policy.Statements.Count; i++)
            {
                var statement = policy.Statements[i];
                var applies = Applies(CompiledStatement.Of(statement, substitute), action, resource, variables);
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

    private static Match Applies(CompiledStatement statement, string action, string resource, IReadOnlyDictionary<string, string> variables)
    {
        var actionMatches = statement.Actions.Length > 0
            ? AnyAction(statement.Actions, action)
            : !AnyAction(statement.NotActions, action);
        if (!actionMatches)
        {
            return Match.No;
        }

        var resourceMatch = statement.Resources.Length > 0
            ? Any(statement.Resources, resource, variables)
            : Not(Any(statement.NotResources, resource, variables));
        if (resourceMatch == Match.No)
        {
            return Match.No;
        }

        var conditionMatch = Conditions(statement.Conditions, variables);
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

    // Actions name no variables and match case-insensitively.
    private static bool AnyAction(PolicyPattern[] patterns, string action)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.Matches(action, CompiledStatement.NoVariables, ignoreCase: true) == true)
            {
                return true;
            }
        }

        return false;
    }

    private static Match Any(PolicyPattern[] patterns, string resource, IReadOnlyDictionary<string, string> variables)
    {
        var result = Match.No;
        foreach (var pattern in patterns)
        {
            switch (pattern.Matches(resource, variables, ignoreCase: false))
            {
                case true:
                    return Match.Yes;
                case null:
                    // Names a variable the request does not have.
                    result = Match.Undecided;
                    break;
            }
        }

        return result;
    }

    // Conditions: each operator, and each key within it, must hold (AND); values of one key are OR-ed.
    // Keys are looked up in the same dictionary as policy variables. Only the string, Bool and Null
    // families are decided here; any other operator leaves the statement undecided (fail closed).
    private static Match Conditions(CompiledCondition[] conditions, IReadOnlyDictionary<string, string> variables)
    {
        var result = Match.Yes;
        foreach (var condition in conditions)
        {
            var m = Condition(condition, variables.TryGetValue(condition.Key, out var actual) ? actual : null, variables);
            if (m == Match.No)
            {
                return Match.No;
            }

            if (m == Match.Undecided)
            {
                result = Match.Undecided;
            }
        }

        return result;
    }

    private static Match Condition(CompiledCondition condition, string? actual, IReadOnlyDictionary<string, string> variables)
    {
        var op = condition.Operator;
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
            return condition.Texts.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase) == (actual is null))
                ? Match.Yes : Match.No;
        }

        if (actual is null)
        {
            return ifExists ? Match.Yes : (op.Contains("Not", StringComparison.Ordinal) ? Match.Yes : Match.No);
        }

        // Condition values may name policy variables too; a value naming an absent variable matches nothing.
        var values = condition.Values;
        bool Equal(StringComparison comparison) => values.Any(v => v.EqualsText(actual, variables, comparison));
        bool Like() => values.Any(v => v.Matches(actual, variables, ignoreCase: false) == true);

        return op switch
        {
            "StringEquals" => Of(Equal(StringComparison.Ordinal)),
            "StringNotEquals" => Of(!Equal(StringComparison.Ordinal)),
            "StringEqualsIgnoreCase" => Of(Equal(StringComparison.OrdinalIgnoreCase)),
            "StringNotEqualsIgnoreCase" => Of(!Equal(StringComparison.OrdinalIgnoreCase)),
            "StringLike" => Of(Like()),
            "StringNotLike" => Of(!Like()),
            "Bool" => Of(Equal(StringComparison.OrdinalIgnoreCase)),
            _ => Match.Undecided,
        };

        static Match Of(bool b) => b ? Match.Yes : Match.No;
    }
}

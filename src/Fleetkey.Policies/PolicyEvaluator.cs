namespace Fleetkey.Policies;

/// <summary>
/// Decides whether parsed policies (AWS IoT policies and identity policies alike) allow an action on a
/// resource, with IAM's evaluation logic: denied unless some statement allows it, and an explicit Deny
/// wins over any Allow.
/// </summary>
/// <remarks>
/// <para>Actions match case-insensitively and resources case-sensitively, with <c>*</c> (any run of
/// characters) and <c>?</c> (one character). MQTT's <c>+</c> and <c>#</c> are literal, as AWS IoT documents.</para>
/// <para>In documents of Version 2012-10-17, <c>${name}</c> in a resource is replaced by
/// <c>variables[name]</c> (for example <c>iot:ClientId</c>, <c>iot:Connection.Thing.ThingName</c>) before
/// matching, and the substituted text is literal: a client ID of <c>*</c> matches only <c>*</c>.
/// <c>${*}</c>, <c>${?}</c> and <c>${$}</c> stand for those characters. Under 2008-10-17 variables are
/// plain text, as IAM documents.</para>
/// <para>Conditions follow IAM's operators (reference_policies_elements_condition_operators): the
/// String*, Bool and Null operators; IpAddress and NotIpAddress (IPv4 and IPv6 CIDR blocks, an address
/// alone being /32 or /128, bits after the prefix ignored; an IPv4-mapped IPv6 address is its IPv4
/// address); ArnEquals/ArnLike and their negations (the same: each of the ARN's six components matched
/// on its own, case-sensitively, with wildcards); Numeric* (decimal) and Date* (ISO 8601 or epoch
/// seconds); each with IfExists. A key absent from the request matches no value: a negated operator
/// holds and IfExists holds. Condition key names match ignoring case, values as their operator says.
/// A policy value its operator cannot read never matches.</para>
/// <para>Fail closed where the request lacks what a statement needs: a statement whose resource names a
/// variable absent from the variables dictionary, or whose condition cannot be decided, never allows,
/// and a Deny statement in that state still denies. Undecided conditions: a request value its operator
/// cannot read (an address, number, date or ARN that does not parse), a key given twice in different
/// case, the ForAllValues:/ForAnyValue: set qualifiers (the request's keys are single-valued) and
/// BinaryEquals.</para>
/// <para>The variables dictionary holds policy variables and condition keys by name, without <c>${}</c>.</para>
/// <para>The broker decides on every packet, with resources a device chooses: matching costs
/// O(resource × ⌈segment/64⌉) whatever the pattern (<see cref="Wildcard"/>), and a statement's patterns
/// and condition values are read once (<see cref="CompiledStatement"/>).</para>
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

    // Conditions: each operator, and each key within it, must hold (AND); values of one key are OR-ed,
    // and a negated operator holds when none matches. Keys are looked up in the same dictionary as
    // policy variables (FindKey).
    private static Match Conditions(CompiledCondition[] conditions, IReadOnlyDictionary<string, string> variables)
    {
        var result = Match.Yes;
        foreach (var condition in conditions)
        {
            var m = FindKey(variables, condition.Key, out var actual) ? Condition(condition, actual, variables) : Match.Undecided;
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

    /// <summary>
    /// The request's value of a condition key (null when absent), whose name IAM compares ignoring case
    /// ("Condition key names are not case-sensitive"); false when the request holds it twice under
    /// names that differ only in case (undecided: which one?).
    /// </summary>
    /// <remarks>
    /// The broker's keys are spelled as policies spell them, so the exact name is tried first: one hash
    /// lookup, as before. Only a key not found that way is looked for among the request's keys ignoring
    /// case, unless the dictionary itself ignores case (a caller may build it with
    /// <see cref="StringComparer.OrdinalIgnoreCase"/> to skip that scan).
    /// </remarks>
    private static bool FindKey(IReadOnlyDictionary<string, string> variables, string key, out string? actual)
    {
        if (variables.TryGetValue(key, out actual))
        {
            return true;
        }

        // A Dictionary is enumerated as itself: through the interface its enumerator would be boxed.
        if (variables is Dictionary<string, string> dictionary)
        {
            if (ReferenceEquals(dictionary.Comparer, StringComparer.OrdinalIgnoreCase))
            {
                return true;
            }

            foreach (var pair in dictionary)
            {
                if (!SameKeyOnce(pair, key, ref actual))
                {
                    return false;
                }
            }

            return true;
        }

        foreach (var pair in variables)
        {
            if (!SameKeyOnce(pair, key, ref actual))
            {
                return false;
            }
        }

        return true;
    }

    // Takes the pair's value when its name is the key ignoring case; false when a value was taken already.
    private static bool SameKeyOnce(KeyValuePair<string, string> pair, string key, ref string? actual)
    {
        if (!string.Equals(pair.Key, key, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (actual is not null)
        {
            actual = null;
            return false;
        }

        actual = pair.Value;
        return true;
    }

    private static Match Condition(CompiledCondition condition, string? actual, IReadOnlyDictionary<string, string> variables)
    {
        var op = condition.Operator;

        // Set qualifiers ask about every value of a multivalued key; the request's keys hold one value
        // each, and on a single-valued key ForAllValues "can be overly permissive" (IAM Access Analyzer):
        // it holds when the key is absent. Undecided, as an unknown operator is.
        if (!condition.Known || op.SetQualified)
        {
            return Match.Undecided;
        }

        if (op.Family == ConditionFamily.Null)
        {
            // "true" asks that the key be absent, "false" that it be present.
            var texts = condition.Texts;
            for (var i = 0; i < texts.Count; i++)
            {
                if (string.Equals(texts[i], "true", StringComparison.OrdinalIgnoreCase) == (actual is null))
                {
                    return Match.Yes;
                }
            }

            return Match.No;
        }

        // IAM: an absent key matches no value, so a negated operator holds; IfExists holds whatever the operator.
        if (actual is null)
        {
            return op.IfExists || op.Negated ? Match.Yes : Match.No;
        }

        // A request value the operator cannot read (not an address, number, date or ARN) is undecided
        // rather than "no match", which a negated operator or a Deny would turn into access.
        return condition.AnyValueMatches(actual, variables) switch
        {
            null => Match.Undecided,
            bool any => any != op.Negated ? Match.Yes : Match.No,
        };
    }
}

using System.Globalization;
using System.Text.Json;
using Fleetkey.Core.Json;

namespace Fleetkey.Policies;

/// <summary>
/// Parses and validates a policy document as CreatePolicy and CreatePolicyVersion do: an AWS IoT policy,
/// or an identity policy on a control-plane access key (<see cref="PolicyDialect"/>).
/// </summary>
/// <remarks>
/// Both follow the IAM policy grammar (Version, Statement, Sid, Effect, Action/NotAction,
/// Resource/NotResource, Condition), restricted to identity policies: no Principal. The dialect decides
/// the action vendors (iot: and greengrass:, or iot: and fleetkey:), the default size limit
/// (<see cref="DefaultMaxSignificantLength"/>, <see cref="IdentityPolicyMaxSignificantLength"/>) and
/// whether IP, numeric and date condition values must read as such (identity policies). Every problem is
/// collected before failing, and the exception message lists them with their JSON path (the first
/// <see cref="MaxProblems"/>, then how many more), after the "Policy document is Malformed" prefix that
/// AWS IoT puts on its own MalformedPolicyException reasons. The document's size, its strings and its
/// nesting are bounded (<see cref="MaxDocumentLength"/>, <see cref="MaxStringLength"/>,
/// <see cref="MaxDepth"/>) so that neither parsing nor evaluating it can cost more than its size says.
/// </remarks>
public static class PolicyDocumentParser
{
    /// <summary>
    /// The documented CreatePolicy limit: "maximum length of 2048, excluding whitespace".
    /// </summary>
    public const int DefaultMaxSignificantLength = 2048;

    /// <summary>
    /// IAM's limit on a managed policy, which identity policies take: "You cannot exceed 6,144
    /// characters", and "IAM does not count white space when calculating the size of a policy".
    /// </summary>
    public const int IdentityPolicyMaxSignificantLength = 6144;

    /// <summary>
    /// The most characters a document may have, whitespace included: the AWS model's PolicyDocument
    /// length. Whitespace is free under the 2048 limit, so without this a document could be any size.
    /// </summary>
    public const int MaxDocumentLength = 404_600;

    /// <summary>
    /// The longest string a document may hold (Sid, action, resource, condition key or value),
    /// whitespace included: the AWS model's Resource length. It bounds what the evaluator matches.
    /// </summary>
    public const int MaxStringLength = 2048;

    /// <summary>How deeply a document may nest (objects and arrays); IAM's grammar needs five levels.</summary>
    public const int MaxDepth = 32;

    /// <summary>Problems listed at most in one MalformedPolicyException; the rest are counted.</summary>
    public const int MaxProblems = 20;

    /// <summary>The policy-language version that enables policy variables.</summary>
    public const string CurrentVersion = "2012-10-17";

    /// <summary>The legacy policy-language version; IAM's default when Version is omitted.</summary>
    public const string LegacyVersion = "2008-10-17";

    internal const string MalformedPrefix = "Policy document is Malformed";

    private static readonly string[] Partitions = ["aws", "aws-cn", "aws-us-gov"];

    private static readonly HashSet<string> TopLevelKeys = new(StringComparer.Ordinal) { "Version", "Id", "Statement" };

    private static readonly HashSet<string> StatementKeys = new(StringComparer.Ordinal)
    {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition",
    };

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>
    /// Parses and validates an AWS IoT policy document against the default 2048-character limit;
    /// throws <see cref="PolicyDocumentException"/> with the reason.
    /// </summary>
    public static PolicyDocument Parse(string json) => Parse(json, PolicyDialect.IotPolicy);

    /// <summary>
    /// Parses and validates an AWS IoT policy document; throws <see cref="PolicyDocumentException"/> listing every problem.
    /// </summary>
    /// <param name="maxSignificantLength">
    /// The largest document accepted, counted as <see cref="SignificantLength"/> does. AWS's default
    /// quota is 2048; a deployment may raise it as AWS raises it on request.
    /// </param>
    public static PolicyDocument Parse(string json, int maxSignificantLength) => Parse(json, PolicyDialect.IotPolicy, maxSignificantLength);

    /// <summary>
    /// Parses and validates a policy document of <paramref name="dialect"/> against that dialect's
    /// default limit (<see cref="DefaultMaxSignificantLength"/> for AWS IoT policies,
    /// <see cref="IdentityPolicyMaxSignificantLength"/> for identity policies); throws
    /// <see cref="PolicyDocumentException"/> listing every problem.
    /// </summary>
    public static PolicyDocument Parse(string json, PolicyDialect dialect) => Parse(json, dialect, PolicyDialectRules.For(dialect).DefaultMaxSignificantLength);

    /// <summary>
    /// Parses and validates a policy document of <paramref name="dialect"/>; throws <see cref="PolicyDocumentException"/> listing every problem.
    /// </summary>
    /// <param name="maxSignificantLength">
    /// The largest document accepted, counted as <see cref="SignificantLength"/> does (a stored document,
    /// validated when written, may be read again with <see cref="int.MaxValue"/>).
    /// </param>
    public static PolicyDocument Parse(string json, PolicyDialect dialect, int maxSignificantLength)
    {
        ArgumentNullException.ThrowIfNull(json);
        var rules = PolicyDialectRules.For(dialect);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSignificantLength);

        if (json.Length > MaxDocumentLength)
        {
            throw Malformed(string.Create(
                CultureInfo.InvariantCulture,
                $"the policy document is {json.Length} characters long including whitespace; the maximum is {MaxDocumentLength}"));
        }

        var length = SignificantLength(json);
        if (length == 0)
        {
            throw Malformed("the policy document is empty");
        }

        if (length > maxSignificantLength)
        {
            throw Malformed(string.Create(
                CultureInfo.InvariantCulture,
                $"the policy document is {length} characters long excluding whitespace; the maximum is {maxSignificantLength}"));
        }

        using var document = ParseJson(json);
        var problems = new List<string>();
        var result = ReadDocument(document.RootElement, rules, problems);
        if (problems.Count > 0 || result is null)
        {
            throw Malformed(problems.Count <= MaxProblems
                ? string.Join("; ", problems)
                : string.Create(CultureInfo.InvariantCulture, $"{string.Join("; ", problems.Take(MaxProblems))}; and {problems.Count - MaxProblems} more problem(s)"));
        }

        return result;
    }

    // Strict JSON (StrictJsonText): a lone surrogate, raw or escaped, would make System.Text.Json throw
    // ArgumentException or InvalidOperationException (a 500) rather than JsonException, and a key given
    // twice is ambiguous (which Effect applies?).
    private static JsonDocument ParseJson(string json) =>
        StrictJsonText.Parse(json, JsonOptions, out var problem) ?? throw Malformed($"Invalid policy syntax: not valid JSON: {problem}");

    /// <summary>
    /// The size AWS IoT measures a policy document by: its characters, not counting whitespace
    /// (CreatePolicy: "maximum length of 2048, excluding whitespace").
    /// </summary>
    /// <remarks>
    /// Whitespace inside string values is not counted either; AWS does not say otherwise, and IAM,
    /// whose limit is worded the same way, counts that way.
    /// </remarks>
    public static int SignificantLength(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var count = 0;
        foreach (var c in json)
        {
            if (!char.IsWhiteSpace(c))
            {
                count++;
            }
        }

        return count;
    }

    private static PolicyDocumentException Malformed(string reason) => new($"{MalformedPrefix}: {reason}");

    private static PolicyDocument? ReadDocument(JsonElement root, PolicyDialectRules rules, List<string> problems)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"Invalid policy syntax: the document must be a JSON object, not {Describe(root)}");
            return null;
        }

        string? version = null;
        JsonElement? statement = null;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "Version":
                    if (property.Value.ValueKind != JsonValueKind.String)
                    {
                        problems.Add($"Version: must be a string, not {Describe(property.Value)}");
                    }
                    else if (property.Value.GetString() is CurrentVersion or LegacyVersion)
                    {
                        version = property.Value.GetString();
                    }
                    else
                    {
                        problems.Add($"Version: \"{Shorten(property.Value.GetString()!)}\" is not a policy language version (use \"{CurrentVersion}\")");
                    }

                    break;
                case "Id":
                    if (property.Value.ValueKind != JsonValueKind.String)
                    {
                        problems.Add($"Id: must be a string, not {Describe(property.Value)}");
                    }
                    else
                    {
                        CheckLength(property.Value.GetString()!, "Id", problems);
                    }

                    break;
                case "Statement":
                    statement = property.Value;
                    break;
                default:
                    problems.Add($"Invalid policy syntax: unknown element \"{Shorten(property.Name)}\" (allowed: Version, Id, Statement)");
                    break;
            }
        }

        var statements = new List<PolicyStatement>();
        if (statement is not { } s)
        {
            problems.Add("Statement: required");
        }
        else if (s.ValueKind == JsonValueKind.Object)
        {
            AddIfNotNull(statements, ReadStatement(s, "Statement", rules, problems));
        }
        else if (s.ValueKind == JsonValueKind.Array)
        {
            if (s.GetArrayLength() == 0)
            {
                problems.Add("Statement: must contain at least one statement");
            }

            var index = 0;
            foreach (var item in s.EnumerateArray())
            {
                var path = string.Create(CultureInfo.InvariantCulture, $"Statement[{index++}]");
                if (item.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"{path}: must be an object, not {Describe(item)}");
                    continue;
                }

                AddIfNotNull(statements, ReadStatement(item, path, rules, problems));
            }
        }
        else
        {
            problems.Add($"Statement: must be an object or an array of objects, not {Describe(s)}");
        }

        CheckUniqueSids(statements, problems);

        // IAM: without a Version element the legacy language applies and policy variables are literal text.
        return new PolicyDocument(version ?? LegacyVersion, statements);
    }

    private static PolicyStatement? ReadStatement(JsonElement element, string path, PolicyDialectRules rules, List<string> problems)
    {
        string? ValidateAction(string action) => PolicyDocumentParser.ValidateAction(action, rules);

        var before = problems.Count;
        string? sid = null;
        PolicyEffect? effect = null;
        IReadOnlyList<string>? actions = null, notActions = null, resources = null, notResources = null;
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>? conditions = null;

        foreach (var property in element.EnumerateObject())
        {
            var at = $"{path}.{property.Name}";
            switch (property.Name)
            {
                case "Sid":
                    if (property.Value.ValueKind == JsonValueKind.String)
                    {
                        sid = property.Value.GetString();
                        CheckLength(sid!, at, problems);
                    }
                    else
                    {
                        problems.Add($"{at}: must be a string, not {Describe(property.Value)}");
                    }

                    break;
                case "Effect":
                    effect = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() switch
                    {
                        "Allow" => PolicyEffect.Allow,
                        "Deny" => PolicyEffect.Deny,
                        _ => null,
                    } : null;
                    if (effect is null)
                    {
                        problems.Add($"{at}: must be \"Allow\" or \"Deny\", not {Describe(property.Value)}");
                    }

                    break;
                case "Action":
                    actions = ReadStrings(property.Value, at, problems, ValidateAction);
                    break;
                case "NotAction":
                    notActions = ReadStrings(property.Value, at, problems, ValidateAction);
                    break;
                case "Resource":
                    resources = ReadStrings(property.Value, at, problems, ValidateResource);
                    break;
                case "NotResource":
                    notResources = ReadStrings(property.Value, at, problems, ValidateResource);
                    break;
                case "Condition":
                    conditions = ReadConditions(property.Value, at, rules, problems);
                    break;
                case "Principal" or "NotPrincipal":
                    problems.Add($"{at}: not supported; {rules.PrincipalProblem}");
                    break;
                default:
                    problems.Add($"{path}: unknown element \"{Shorten(property.Name)}\" (allowed: Sid, Effect, Action, NotAction, Resource, NotResource, Condition)");
                    break;
            }
        }

        if (!element.TryGetProperty("Effect", out _))
        {
            problems.Add($"{path}.Effect: required (\"Allow\" or \"Deny\")");
        }

        var hasAction = element.TryGetProperty("Action", out _);
        var hasNotAction = element.TryGetProperty("NotAction", out _);
        if (hasAction && hasNotAction)
        {
            problems.Add($"{path}: has both Action and NotAction; use one");
        }
        else if (!hasAction && !hasNotAction)
        {
            problems.Add($"{path}: must contain Action or NotAction");
        }

        var hasResource = element.TryGetProperty("Resource", out _);
        var hasNotResource = element.TryGetProperty("NotResource", out _);
        if (hasResource && hasNotResource)
        {
            problems.Add($"{path}: has both Resource and NotResource; use one");
        }
        else if (!hasResource && !hasNotResource)
        {
            problems.Add($"{path}: must contain Resource or NotResource");
        }

        if (problems.Count > before || effect is not { } e)
        {
            return null;
        }

        return new PolicyStatement(
            sid,
            e,
            actions ?? [],
            notActions ?? [],
            resources ?? [],
            notResources ?? [],
            conditions ?? new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>(StringComparer.Ordinal));
    }

    private static List<string>? ReadStrings(JsonElement value, string path, List<string> problems, Func<string, string?> validate)
    {
        var result = new List<string>();
        if (value.ValueKind == JsonValueKind.String)
        {
            Add(value.GetString()!, path);
            return result;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{path}: must be a string or an array of strings, not {Describe(value)}");
            return null;
        }

        if (value.GetArrayLength() == 0)
        {
            problems.Add($"{path}: must not be empty");
            return null;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"{path}[{index++}]");
            if (item.ValueKind != JsonValueKind.String)
            {
                problems.Add($"{at}: must be a string, not {Describe(item)}");
                continue;
            }

            Add(item.GetString()!, at);
        }

        return result;

        void Add(string s, string at)
        {
            if (!CheckLength(s, at, problems))
            {
                return;
            }

            if (validate(s) is { } problem)
            {
                problems.Add($"{at}: {problem}");
            }
            else
            {
                result.Add(s);
            }
        }
    }

    /// <summary>Returns why <paramref name="action"/> is not an action a policy of the dialect may name, or null.</summary>
    internal static string? ValidateAction(string action, PolicyDialectRules rules)
    {
        if (action == "*")
        {
            return null;
        }

        var colon = action.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return $"Policy contains an invalid action \"{action}\": {rules.ActionShape}";
        }

        if (action.IndexOf(':', colon + 1) >= 0)
        {
            return $"Policy contains an invalid action \"{action}\": an action contains only one colon";
        }

        var vendor = action[..colon];
        var name = action[(colon + 1)..];
        if (!rules.ActionVendors.Any(v => string.Equals(v, vendor, StringComparison.OrdinalIgnoreCase)))
        {
            return $"Policy contains an invalid action \"{action}\": {rules.VendorProblem}";
        }

        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '*' or '?'))
        {
            return $"Policy contains an invalid action \"{action}\": the action name may contain only letters, digits and the wildcards * and ?";
        }

        return null;
    }

    /// <summary>Returns why <paramref name="resource"/> is not "*" or a well-formed ARN, or null.</summary>
    internal static string? ValidateResource(string resource)
    {
        if (resource == "*")
        {
            return null;
        }

        // arn:partition:service:region:account-id:resource; the resource part may itself hold colons.
        var parts = resource.Split(':', 6);
        if (parts.Length < 6 || !string.Equals(parts[0], "arn", StringComparison.Ordinal))
        {
            return $"The following resources are invalid : {resource} (a resource is \"*\" or an ARN arn:aws:iot:region:account:type/name)";
        }

        if (!Partitions.Contains(parts[1], StringComparer.Ordinal) && parts[1] != "*")
        {
            return $"Partition \"{parts[1]}\" is not valid for resource \"{resource}\"";
        }

        var service = parts[2];
        if (service.Length == 0 || !service.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            return $"The following resources are invalid : {resource} (the service \"{service}\" must be fully qualified, without wildcards)";
        }

        if (parts[5].Length == 0)
        {
            return $"The following resources are invalid : {resource} (the resource part after the account is empty)";
        }

        if (UnclosedVariable(resource))
        {
            return $"The following resources are invalid : {resource} (a policy variable \"${{\" is not closed with \"}}\")";
        }

        return null;
    }

    private static bool UnclosedVariable(string s)
    {
        var start = 0;
        while ((start = s.IndexOf("${", start, StringComparison.Ordinal)) >= 0)
        {
            var end = s.IndexOf('}', start + 2);
            if (end < 0)
            {
                return true;
            }

            start = end + 1;
        }

        return false;
    }

    private static Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>? ReadConditions(
        JsonElement value, string path, PolicyDialectRules rules, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path}: must be an object of condition operators, not {Describe(value)}");
            return null;
        }

        var result = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>(StringComparer.Ordinal);
        foreach (var op in value.EnumerateObject())
        {
            var opPath = $"{path}.{Shorten(op.Name)}";
            if (!ConditionOperator.TryParse(op.Name, out var parsed))
            {
                problems.Add($"{opPath}: \"{Shorten(op.Name)}\" is not a condition operator");
                continue;
            }

            Func<string, string?>? check = rules.ChecksTypedConditionValues ? v => ConditionValues.Problem(parsed.Family, v) : null;

            if (op.Value.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{opPath}: must be an object of condition keys, not {Describe(op.Value)}");
                continue;
            }

            var keys = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var key in op.Value.EnumerateObject())
            {
                var keyPath = $"{opPath}.{Shorten(key.Name)}";
                if (key.Name.Length == 0)
                {
                    problems.Add($"{opPath}: a condition key is empty");
                    continue;
                }

                if (!CheckLength(key.Name, keyPath, problems))
                {
                    continue;
                }

                var values = new List<string>();
                if (key.Value.ValueKind == JsonValueKind.Array)
                {
                    var index = 0;
                    foreach (var item in key.Value.EnumerateArray())
                    {
                        AddConditionValue(item, string.Create(CultureInfo.InvariantCulture, $"{keyPath}[{index++}]"), values, problems, check);
                    }
                }
                else
                {
                    AddConditionValue(key.Value, keyPath, values, problems, check);
                }

                keys[key.Name] = values;
            }

            result[op.Name] = keys;
        }

        return result;
    }

    // IAM stores condition values as text; JSON numbers and booleans are accepted and kept in their JSON spelling.
    private static void AddConditionValue(JsonElement item, string path, List<string> values, List<string> problems, Func<string, string?>? check)
    {
        string text;
        switch (item.ValueKind)
        {
            case JsonValueKind.String:
                text = item.GetString()!;
                if (!CheckLength(text, path, problems))
                {
                    return;
                }

                break;
            case JsonValueKind.Number:
                text = item.GetRawText();
                break;
            case JsonValueKind.True:
                text = "true";
                break;
            case JsonValueKind.False:
                text = "false";
                break;
            default:
                problems.Add($"{path}: a condition value must be a string, number or boolean, not {Describe(item)}");
                return;
        }

        if (check?.Invoke(text) is { } problem)
        {
            problems.Add($"{path}: \"{Shorten(text)}\" {problem}");
            return;
        }

        values.Add(text);
    }

    private static void CheckUniqueSids(List<PolicyStatement> statements, List<string> problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var statement in statements)
        {
            if (statement.Sid is { Length: > 0 } sid && !seen.Add(sid))
            {
                problems.Add($"Statement IDs (SID) in a single policy must be unique: \"{sid}\" is repeated");
            }
        }
    }

    /// <summary>False, with the problem added, when <paramref name="value"/> is over <see cref="MaxStringLength"/>.</summary>
    private static bool CheckLength(string value, string path, List<string> problems)
    {
        if (value.Length <= MaxStringLength)
        {
            return true;
        }

        problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: a string of {value.Length} characters (whitespace included); at most {MaxStringLength} are allowed"));
        return false;
    }

    // A value echoed in a message is cut: a wrong-typed 400 KB string must not come back whole.
    private static string Shorten(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");

    private static void AddIfNotNull(List<PolicyStatement> list, PolicyStatement? statement)
    {
        if (statement is not null)
        {
            list.Add(statement);
        }
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"\"{Shorten(value.GetString()!)}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString(),
    };
}

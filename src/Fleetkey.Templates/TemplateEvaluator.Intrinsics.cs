using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fleetkey.Templates;

// Values and intrinsic functions. The documented IoT set (Ref, Fn::Join, Fn::Select, Fn::Split,
// Fn::Sub, Fn::FindInMap) plus CloudFormation's conditions (Fn::If, Fn::Equals, Fn::Not, Fn::And,
// Fn::Or, AWS::NoValue), with CloudFormation's semantics where the IoT guide is silent.
internal sealed partial class TemplateEvaluator
{
    private const string ConditionKey = "Condition";

    // CloudFormation's bounds for Fn::And and Fn::Or.
    private const int MinConditionOperands = 2;
    private const int MaxConditionOperands = 10;

    /// <summary>Evaluates any template node; null when an error was reported.</summary>
    private TemplateValue? Evaluate(JsonElement element, TemplatePath path)
    {
        if (!Spend(1, path))
        {
            return null;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                {
                    var items = new List<TemplateValue>();
                    var failed = false;
                    var index = 0;
                    foreach (var item in element.EnumerateArray())
                    {
                        switch (Evaluate(item, Index(path, index)))
                        {
                            case null: failed = true; break;
                            case NoValue: break;
                            case var value: items.Add(value); break;
                        }

                        index++;
                    }

                    return failed ? null : new ListValue(items);
                }

            case JsonValueKind.Object:
                {
                    if (TryGetFunction(element, out var function))
                    {
                        return EvaluateFunction(function.Name, function.Value, Child(path, function.Name));
                    }

                    var members = new List<KeyValuePair<string, TemplateValue>>();
                    var failed = false;
                    foreach (var member in element.EnumerateObject())
                    {
                        switch (Evaluate(member.Value, Child(path, member.Name)))
                        {
                            case null: failed = true; break;
                            case NoValue: break;
                            case var value: members.Add(new(member.Name, value)); break;
                        }
                    }

                    return failed ? null : new ObjectValue(members);
                }

            case JsonValueKind.Null:
                Error(path, "null is not a valid value");
                return null;

            default:
                return Literal(element);
        }
    }

    /// <summary>A single-member object whose key is Ref or Fn::… is a function call, as in CloudFormation.</summary>
    private static bool TryGetFunction(JsonElement element, out JsonProperty function)
    {
        function = default;
        using var members = element.EnumerateObject();
        if (!members.MoveNext())
        {
            return false;
        }

        var first = members.Current;
        if (members.MoveNext())
        {
            return false;
        }

        if (first.Name == "Ref" || first.Name.StartsWith("Fn::", StringComparison.Ordinal))
        {
            function = first;
            return true;
        }

        return false;
    }

    private TemplateValue? EvaluateFunction(string name, JsonElement argument, TemplatePath path) => name switch
    {
        "Ref" => EvaluateRef(argument, path),
        "Fn::Join" => EvaluateJoin(argument, path),
        "Fn::Select" => EvaluateSelect(argument, path),
        "Fn::Split" => EvaluateSplit(argument, path),
        "Fn::Sub" => EvaluateSub(argument, path),
        "Fn::FindInMap" => EvaluateFindInMap(argument, path),
        "Fn::If" => EvaluateIf(argument, path),
        "Fn::Equals" or "Fn::Not" or "Fn::And" or "Fn::Or" =>
            Fail(path, $"{name} may only be used in the Conditions section; use Fn::If with a named condition here"),
        _ => Fail(path, $"intrinsic function {name} is not supported in provisioning templates; supported: Ref, Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::FindInMap, Fn::If"),
    };

    private TemplateValue? Fail(TemplatePath path, string message)
    {
        Error(path, message);
        return null;
    }

    private TemplateValue? EvaluateRef(JsonElement argument, TemplatePath path)
    {
        if (argument.ValueKind != JsonValueKind.String)
        {
            return Fail(path, $"Ref takes a parameter name as a string literal, not {Describe(argument.ValueKind)}");
        }

        var name = argument.GetString()!;
        if (name == NoValueName)
        {
            return NoValue.Instance;
        }

        // A parameter value is shared, not copied, but whatever repeats it (a PolicyDocument, the
        // device configuration) copies it: each use counts its length.
        return ResolveParameter(name, path) is { } value && Spend(value.Length, path) ? ScalarValue.Of(value) : null;
    }

    private ScalarValue? EvaluateJoin(JsonElement argument, TemplatePath path)
    {
        if (!ExpectArguments(argument, path, "Fn::Join", "[delimiter, [values…]]", 2))
        {
            return null;
        }

        var delimiter = EvaluateString(argument[0], Index(path, 0));
        var values = EvaluateStringList(argument[1], Index(path, 1));
        if (delimiter is null || values is null)
        {
            return null;
        }

        // Measured before it is built: the delimiter is repeated once per element.
        var length = (long)delimiter.Length * Math.Max(0, values.Count - 1);
        foreach (var value in values)
        {
            length += value.Length;
        }

        return CheckLength(length, path, "Fn::Join") && Spend(length, path) ? ScalarValue.Of(string.Join(delimiter, values)) : null;
    }

    /// <summary>False (reported) when a function would produce more than <see cref="TemplateEngine.MaxStringLength"/> characters.</summary>
    private bool CheckLength(long length, TemplatePath path, string function)
    {
        if (length <= TemplateEngine.MaxStringLength)
        {
            return true;
        }

        Error(path, $"{function} would produce a string of more than {Text(TemplateEngine.MaxStringLength)} characters ({(length > int.MaxValue ? "over 2^31" : Text((int)length))}); at most {Text(TemplateEngine.MaxStringLength)} are allowed");
        return false;
    }

    private TemplateValue? EvaluateSelect(JsonElement argument, TemplatePath path)
    {
        if (!ExpectArguments(argument, path, "Fn::Select", "[index, [values…]]", 2))
        {
            return null;
        }

        var indexPath = Index(path, 0);
        var indexText = EvaluateString(argument[0], indexPath);
        var list = EvaluateList(argument[1], Index(path, 1));
        if (indexText is null || list is null)
        {
            return null;
        }

        if (!int.TryParse(indexText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
        {
            return Fail(indexPath, $"Fn::Select index '{Shorten(indexText)}' is not an integer");
        }

        if (index < 0 || index >= list.Items.Count)
        {
            return Fail(indexPath, $"Fn::Select index {Text(index)} is out of range for a list of {Text(list.Items.Count)} element(s)");
        }

        return list.Items[index];
    }

    private TemplateValue? EvaluateSplit(JsonElement argument, TemplatePath path)
    {
        if (!ExpectArguments(argument, path, "Fn::Split", "[delimiter, string]", 2))
        {
            return null;
        }

        var delimiterPath = Index(path, 0);
        var delimiter = EvaluateString(argument[0], delimiterPath);
        var source = EvaluateString(argument[1], Index(path, 1));
        if (delimiter is null || source is null)
        {
            return null;
        }

        if (delimiter.Length == 0)
        {
            return Fail(delimiterPath, "the Fn::Split delimiter must not be empty");
        }

        // Each piece is a new string and a list element: at most the source's characters plus one
        // element per delimiter, paid before splitting.
        if (!Spend(source.Length + (source.Length / delimiter.Length) + 1, path))
        {
            return null;
        }

        // Empty pieces are kept, as CloudFormation keeps them ("a,,b" has three elements).
        return new ListValue([.. source.Split(delimiter).Select(ScalarValue.Of)]);
    }

    private TemplateValue? EvaluateSub(JsonElement argument, TemplatePath path)
    {
        string format;
        TemplatePath formatPath;
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (argument.ValueKind == JsonValueKind.String)
        {
            format = argument.GetString()!;
            formatPath = path;
        }
        else if (argument.ValueKind == JsonValueKind.Array && argument.GetArrayLength() == 2
            && argument[0].ValueKind == JsonValueKind.String && argument[1].ValueKind == JsonValueKind.Object)
        {
            format = argument[0].GetString()!;
            formatPath = Index(path, 0);
            var variablesPath = Index(path, 1);
            foreach (var variable in argument[1].EnumerateObject())
            {
                // A variable that failed to evaluate stays in the map as null, so that uses of it
                // fail quietly rather than being reported again as unknown parameters.
                variables[variable.Name] = EvaluateString(variable.Value, Child(variablesPath, variable.Name));
            }
        }
        else
        {
            return Fail(path, "Fn::Sub takes a string, or [string, {variable: value, …}]");
        }

        var result = new StringBuilder(format.Length);
        var failed = false;
        var position = 0;
        while (position < format.Length)
        {
            // A variable is evaluated once and may be used many times: the result is measured as it
            // grows, and each nesting level's result is paid for below.
            if (result.Length > TemplateEngine.MaxStringLength)
            {
                break;
            }

            var start = format.IndexOf("${", position, StringComparison.Ordinal);
            var end = start < 0 ? -1 : format.IndexOf('}', start + 2);
            if (end < 0)
            {
                // No complete ${…} left: the rest is literal text.
                result.Append(format, position, format.Length - position);
                break;
            }

            result.Append(format, position, start - position);
            var name = format[(start + 2)..end];
            if (name.StartsWith('!'))
            {
                // ${!Literal} writes ${Literal}, CloudFormation's escape.
                result.Append("${").Append(name, 1, name.Length - 1).Append('}');
            }
            else if (variables.TryGetValue(name, out var variable))
            {
                failed |= variable is null;
                result.Append(variable);
            }
            else if (name.Contains('.', StringComparison.Ordinal) && !_parameters.ContainsKey(name))
            {
                Error(formatPath, $"Fn::Sub variable ${{{name}}} refers to a resource attribute; Fn::GetAtt is not supported in provisioning templates");
                failed = true;
            }
            else if (ResolveParameter(name, formatPath) is { } value)
            {
                result.Append(value);
            }
            else
            {
                failed = true;
            }

            position = end + 1;
        }

        if (failed || !CheckLength(result.Length, path, "Fn::Sub") || !Spend(result.Length, path))
        {
            return null;
        }

        return ScalarValue.Of(result.ToString());
    }

    private TemplateValue? EvaluateFindInMap(JsonElement argument, TemplatePath path)
    {
        if (!ExpectArguments(argument, path, "Fn::FindInMap", "[mapName, topLevelKey, secondLevelKey]", 3))
        {
            return null;
        }

        var mapName = EvaluateString(argument[0], Index(path, 0));
        var topKey = EvaluateString(argument[1], Index(path, 1));
        var secondKey = EvaluateString(argument[2], Index(path, 2));
        if (mapName is null || topKey is null || secondKey is null)
        {
            return null;
        }

        if (!_mappings.TryGetValue(mapName, out var map))
        {
            return Fail(Index(path, 0), $"mapping '{Shorten(mapName)}' is not declared in the Mappings section");
        }

        if (!map.TryGetValue(topKey, out var second))
        {
            return Fail(Index(path, 1), $"mapping '{Shorten(mapName)}' has no key '{Shorten(topKey)}'");
        }

        if (!second.TryGetValue(secondKey, out var value))
        {
            return Fail(Index(path, 2), $"mapping '{Shorten(mapName)}' has no key '{Shorten(topKey)}'.'{Shorten(secondKey)}'");
        }

        // Shared, like a parameter's value: each use counts its size.
        return Spend(Size(value), path) ? value : null;
    }

    private TemplateValue? EvaluateIf(JsonElement argument, TemplatePath path)
    {
        if (!ExpectArguments(argument, path, "Fn::If", "[conditionName, valueIfTrue, valueIfFalse]", 3))
        {
            return null;
        }

        var namePath = Index(path, 0);
        if (argument[0].ValueKind != JsonValueKind.String)
        {
            return Fail(namePath, $"Fn::If takes a condition name as a string literal, not {Describe(argument[0].ValueKind)}");
        }

        // Only the chosen branch is evaluated, so the other may Ref a parameter that has no value.
        return EvaluateConditionByName(argument[0].GetString()!, namePath) switch
        {
            true => Evaluate(argument[1], Index(path, 1)),
            false => Evaluate(argument[2], Index(path, 2)),
            null => null,
        };
    }

    /// <summary>What a value costs to copy: its characters and elements.</summary>
    private static long Size(TemplateValue value) => value switch
    {
        ScalarValue scalar => scalar.Text.Length,
        ListValue list => list.Items.Sum(item => Size(item) + 1),
        ObjectValue obj => obj.Members.Sum(member => member.Key.Length + Size(member.Value) + 1),
        _ => 0,
    };

    private bool ExpectArguments(JsonElement argument, TemplatePath path, string function, string shape, int count)
    {
        if (argument.ValueKind == JsonValueKind.Array && argument.GetArrayLength() == count)
        {
            return true;
        }

        Error(path, argument.ValueKind == JsonValueKind.Array
            ? $"{function} takes {Text(count)} arguments {shape}, not {Text(argument.GetArrayLength())}"
            : $"{function} takes a list {shape}, not {Describe(argument.ValueKind)}");
        return false;
    }

    /// <summary>Evaluates a node that must produce a string (a number or boolean literal reads as its text).</summary>
    private string? EvaluateString(JsonElement element, TemplatePath path) => Evaluate(element, path) switch
    {
        null => null,
        ScalarValue scalar => scalar.Text,
        NoValue => FailString(path, "AWS::NoValue may only stand for a whole property or list element; a string is required here"),
        var other => FailString(path, $"expected a string, found {Describe(other)}"),
    };

    private string? FailString(TemplatePath path, string message)
    {
        Error(path, message);
        return null;
    }

    private ListValue? EvaluateList(JsonElement element, TemplatePath path)
    {
        switch (Evaluate(element, path))
        {
            case null:
                return null;
            case ListValue list:
                return list;
            case var other:
                Error(path, $"expected a list, found {Describe(other)}");
                return null;
        }
    }

    /// <summary>
    /// A list of strings. A literal list is checked element by element so that each bad element is
    /// reported at its own path; a computed list (Fn::Split, Fn::FindInMap, Fn::If) at the list's.
    /// </summary>
    private List<string>? EvaluateStringList(JsonElement element, TemplatePath path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var strings = new List<string>();
            var failed = false;
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = Index(path, index++);
                switch (Evaluate(item, itemPath))
                {
                    case null: failed = true; break;
                    case NoValue: break;
                    case ScalarValue scalar: strings.Add(scalar.Text); break;
                    case var other:
                        Error(itemPath, $"expected a string, found {Describe(other)}");
                        failed = true;
                        break;
                }
            }

            return failed ? null : strings;
        }

        if (EvaluateList(element, path) is not { } list)
        {
            return null;
        }

        if (list.Items.FirstOrDefault(item => item is not ScalarValue) is { } bad)
        {
            Error(path, $"expected a list of strings, but an element is {Describe(bad)}");
            return null;
        }

        return [.. list.Items.Cast<ScalarValue>().Select(item => item.Text)];
    }

    private void ReadConditions(JsonElement section)
    {
        if (!ExpectObject(section, ConditionsSection))
        {
            return;
        }

        foreach (var condition in section.EnumerateObject())
        {
            _conditionDefinitions[condition.Name] = condition.Value;
        }

        // Every condition is evaluated, used or not, so that a broken one is reported up front.
        foreach (var condition in section.EnumerateObject())
        {
            EvaluateConditionByName(condition.Name, null);
        }
    }

    /// <summary>
    /// A named condition's value, computed once. <paramref name="referencePath"/> is where the name
    /// was used (null for the up-front pass); an unknown name or a cycle is reported there.
    /// </summary>
    private bool? EvaluateConditionByName(string name, TemplatePath? referencePath)
    {
        if (!_conditionDefinitions.TryGetValue(name, out var definition))
        {
            Error(referencePath ?? ConditionsSection, $"unknown condition '{Shorten(name)}'; it is not declared in the Conditions section");
            return null;
        }

        if (_conditionResults.TryGetValue(name, out var known))
        {
            return known;
        }

        var cycleStart = _conditionsInProgress.IndexOf(name);
        if (cycleStart >= 0)
        {
            // Reported once, where the cycle closes; every condition on it then fails quietly.
            var cycle = string.Join(" -> ", _conditionsInProgress.Skip(cycleStart).Append(name));
            Error(referencePath ?? Child(ConditionsSection, name), $"condition cycle: {cycle}");
            return null;
        }

        _conditionsInProgress.Add(name);
        var result = EvaluateCondition(definition, Child(ConditionsSection, name));
        _conditionsInProgress.RemoveAt(_conditionsInProgress.Count - 1);
        _conditionResults[name] = result;
        return result;
    }

    private bool? EvaluateCondition(JsonElement element, TemplatePath path)
    {
        const string Shape = "a condition must be {\"Fn::Equals\": […]}, {\"Fn::Not\": […]}, {\"Fn::And\": […]}, {\"Fn::Or\": […]} or {\"Condition\": \"Name\"}";
        if (!Spend(1, path))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object || element.GetPropertyCount() != 1)
        {
            Error(path, Shape);
            return null;
        }

        var function = element.EnumerateObject().First();
        var functionPath = Child(path, function.Name);
        var argument = function.Value;
        switch (function.Name)
        {
            case ConditionKey:
                if (argument.ValueKind != JsonValueKind.String)
                {
                    Error(functionPath, $"Condition takes a condition name as a string literal, not {Describe(argument.ValueKind)}");
                    return null;
                }

                return EvaluateConditionByName(argument.GetString()!, functionPath);

            case "Fn::Equals":
                {
                    if (!ExpectArguments(argument, functionPath, "Fn::Equals", "[value1, value2]", 2))
                    {
                        return null;
                    }

                    var left = EvaluateString(argument[0], Index(functionPath, 0));
                    var right = EvaluateString(argument[1], Index(functionPath, 1));
                    return left is null || right is null ? null : string.Equals(left, right, StringComparison.Ordinal);
                }

            case "Fn::Not":
                {
                    if (!ExpectArguments(argument, functionPath, "Fn::Not", "[condition]", 1))
                    {
                        return null;
                    }

                    return !EvaluateCondition(argument[0], Index(functionPath, 0));
                }

            case "Fn::And":
            case "Fn::Or":
                {
                    if (argument.ValueKind != JsonValueKind.Array
                        || argument.GetArrayLength() is < MinConditionOperands or > MaxConditionOperands)
                    {
                        Error(functionPath, $"{function.Name} takes a list of {Text(MinConditionOperands)} to {Text(MaxConditionOperands)} conditions");
                        return null;
                    }

                    // All operands are evaluated (no short circuit) so that every error is reported.
                    var results = new List<bool?>();
                    var index = 0;
                    foreach (var operand in argument.EnumerateArray())
                    {
                        results.Add(EvaluateCondition(operand, Index(functionPath, index++)));
                    }

                    if (results.Any(r => r is null))
                    {
                        return null;
                    }

                    return function.Name == "Fn::And" ? results.All(r => r == true) : results.Any(r => r == true);
                }

            default:
                Error(path, Shape);
                return null;
        }
    }
}

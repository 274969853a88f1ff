using System.Globalization;
using System.Text;
using System.Text.Json;
using Fleetkey.Core.Json;

namespace Fleetkey.Templates;

/// <summary>
/// One evaluation of one template. Every check appends to <see cref="_errors"/> and carries on, so
/// the author sees all problems at once (as YARP's route validators do); nothing here throws for
/// bad input.
/// </summary>
internal sealed partial class TemplateEvaluator
{
    private const string ParametersSection = "Parameters";
    private const string MappingsSection = "Mappings";
    private const string ConditionsSection = "Conditions";
    private const string ResourcesSection = "Resources";
    private const string DeviceConfigurationSection = "DeviceConfiguration";

    // The caller-supplied pseudo-parameters (JITP's AWS::IoT::Certificate::CommonName, fleet
    // provisioning's AWS::IoT::Certificate::Id, …) are referenced by AWS's own fleet example without
    // being declared, so Refs under this prefix resolve from the parameters even when undeclared.
    private const string IotPseudoParameterPrefix = "AWS::IoT::";
    private const string NoValueName = "AWS::NoValue";

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        // A repeated key would silently shadow the first one; AWS's parser rejects such documents too.
        AllowDuplicateProperties = false,
        MaxDepth = 64,
    };

    private readonly IReadOnlyDictionary<string, string> _arguments;
    private readonly List<TemplateError> _errors = [];

    // Checking a stored template, with no parameters yet: every parameter's value is unknown, so a
    // Ref to it fails quietly (as an error already reported does) and only what holds whatever the
    // values are is checked.
    private readonly bool _validateOnly;

    // Arguments over the model's limits: reported once by CheckArguments, then their Refs fail quietly.
    private readonly HashSet<string> _rejectedArguments = new(StringComparer.Ordinal);

    // Declared parameters; a null entry is a declaration that was itself in error, whose Refs
    // therefore fail without repeating the error.
    private readonly Dictionary<string, ParameterDeclaration?> _parameters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, Dictionary<string, TemplateValue>>> _mappings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonElement> _conditionDefinitions = new(StringComparer.Ordinal);

    // A null result is a condition whose evaluation failed (error already reported).
    private readonly Dictionary<string, bool?> _conditionResults = new(StringComparer.Ordinal);
    private readonly List<string> _conditionsInProgress = [];

    private TemplateEvaluator(IReadOnlyDictionary<string, string> arguments, bool validateOnly)
    {
        _arguments = arguments;
        _validateOnly = validateOnly;
    }

    public static TemplateResult EvaluateTemplate(string? templateBody, IReadOnlyDictionary<string, string>? parameters)
    {
        var evaluator = new TemplateEvaluator(parameters ?? new Dictionary<string, string>(), validateOnly: false);
        var plan = evaluator.Run(templateBody);
        return evaluator._errors.Count == 0 && plan is not null
            ? new TemplateResult(plan, [])
            : new TemplateResult(null, evaluator._errors);
    }

    public static IReadOnlyList<TemplateError> ValidateTemplate(string? templateBody)
    {
        var evaluator = new TemplateEvaluator(new Dictionary<string, string>(), validateOnly: true);
        _ = evaluator.Run(templateBody);
        return evaluator._errors;
    }

    private sealed record ParameterDeclaration(string? Default);

    private ProvisioningPlan? Run(string? templateBody)
    {
        if (string.IsNullOrEmpty(templateBody))
        {
            Error("", "the template body is empty");
            return null;
        }

        if (templateBody.Length > TemplateEngine.MaxTemplateLength)
        {
            Error("", $"the template body is {Text(templateBody.Length)} characters; at most {Text(TemplateEngine.MaxTemplateLength)} are allowed");
            return null;
        }

        CheckArguments();

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(templateBody, ParseOptions);
        }
        catch (JsonException e)
        {
            Error("", $"the template body is not valid JSON: {e.Message}");
            return null;
        }

        // A lone surrogate escape ("\ud800") parses, then throws when its string is read deep in the evaluation (a 500 once).
        if (StrictJson.FindProblem(Encoding.UTF8.GetBytes(templateBody), ParseOptions.MaxDepth) is { } problem)
        {
            document.Dispose();
            Error("", $"the template body is not valid JSON: {problem}");
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                Error("", $"the template must be a JSON object, not {Describe(root.ValueKind)}");
                return null;
            }

            JsonElement? parameters = null, mappings = null, conditions = null, resources = null, deviceConfiguration = null;
            foreach (var section in root.EnumerateObject())
            {
                switch (section.Name)
                {
                    case ParametersSection: parameters = section.Value; break;
                    case MappingsSection: mappings = section.Value; break;
                    case ConditionsSection: conditions = section.Value; break;
                    case ResourcesSection: resources = section.Value; break;
                    case DeviceConfigurationSection: deviceConfiguration = section.Value; break;
                    default:
                        Error(section.Name, $"unknown template section '{section.Name}'; expected Parameters, Mappings, Conditions, Resources or DeviceConfiguration");
                        break;
                }
            }

            // Sections are read in dependency order, whatever their order in the document.
            if (parameters is { } p)
            {
                ReadParameters(p);
            }

            if (mappings is { } m)
            {
                ReadMappings(m);
            }

            if (conditions is { } c)
            {
                ReadConditions(c);
            }

            var plan = new PlanBuilder();
            if (resources is { } r)
            {
                ReadResources(r, plan);
            }
            else
            {
                Error(ResourcesSection, "the Resources section is required");
            }

            var configuration = deviceConfiguration is { } d
                ? ReadDeviceConfiguration(d)
                : new Dictionary<string, string>(StringComparer.Ordinal);

            return new ProvisioningPlan(plan.Things, plan.Certificates, plan.Policies, configuration);
        }
    }

    private void CheckArguments()
    {
        foreach (var (name, value) in _arguments)
        {
            if (name.Length > TemplateEngine.MaxParameterNameLength)
            {
                _rejectedArguments.Add(name);
                Error($"$parameters.{Shorten(name)}", $"parameter names are at most {Text(TemplateEngine.MaxParameterNameLength)} characters; this one has {Text(name.Length)}");
            }
            else if (value is { Length: > TemplateEngine.MaxParameterValueLength })
            {
                _rejectedArguments.Add(name);
                Error($"$parameters.{name}", $"parameter values are at most {Text(TemplateEngine.MaxParameterValueLength)} characters; this one has {Text(value.Length)}");
            }
        }
    }

    private void ReadParameters(JsonElement section)
    {
        if (!ExpectObject(section, ParametersSection))
        {
            return;
        }

        foreach (var parameter in section.EnumerateObject())
        {
            var path = Child(ParametersSection, parameter.Name);
            _parameters[parameter.Name] = ReadParameterDeclaration(parameter.Value, path);
        }
    }

    private ParameterDeclaration? ReadParameterDeclaration(JsonElement declaration, string path)
    {
        if (!ExpectObject(declaration, path))
        {
            return null;
        }

        var valid = true;
        var sawType = false;
        string? defaultValue = null;
        foreach (var member in declaration.EnumerateObject())
        {
            var memberPath = Child(path, member.Name);
            switch (member.Name)
            {
                case "Type":
                    sawType = true;
                    if (member.Value.ValueKind != JsonValueKind.String || member.Value.GetString() != "String")
                    {
                        Error(memberPath, $"parameter type {member.Value.GetRawText()} is not supported; the only type is \"String\"");
                        valid = false;
                    }

                    break;
                case "Default":
                    if (member.Value.ValueKind != JsonValueKind.String)
                    {
                        Error(memberPath, $"a parameter default must be a string literal, not {Describe(member.Value.ValueKind)}");
                        valid = false;
                    }
                    else
                    {
                        defaultValue = member.Value.GetString()!;
                        if (defaultValue.Length > TemplateEngine.MaxParameterValueLength)
                        {
                            Error(memberPath, $"parameter values are at most {Text(TemplateEngine.MaxParameterValueLength)} characters; this default has {Text(defaultValue.Length)}");
                            valid = false;
                        }
                    }

                    break;
                case "Description":
                    // Carried over from CloudFormation habit; harmless, so accepted and ignored.
                    break;
                default:
                    Error(memberPath, $"unknown parameter attribute '{member.Name}'; expected Type, Default or Description");
                    valid = false;
                    break;
            }
        }

        if (!sawType)
        {
            Error(Child(path, "Type"), "a parameter must declare \"Type\": \"String\"");
            valid = false;
        }

        return valid ? new ParameterDeclaration(defaultValue) : null;
    }

    private void ReadMappings(JsonElement section)
    {
        if (!ExpectObject(section, MappingsSection))
        {
            return;
        }

        foreach (var map in section.EnumerateObject())
        {
            var mapPath = Child(MappingsSection, map.Name);
            if (!ExpectObject(map.Value, mapPath))
            {
                continue;
            }

            var topLevel = new Dictionary<string, Dictionary<string, TemplateValue>>(StringComparer.Ordinal);
            _mappings[map.Name] = topLevel;
            foreach (var top in map.Value.EnumerateObject())
            {
                var topPath = Child(mapPath, top.Name);
                if (!ExpectObject(top.Value, topPath))
                {
                    continue;
                }

                var secondLevel = new Dictionary<string, TemplateValue>(StringComparer.Ordinal);
                topLevel[top.Name] = secondLevel;
                foreach (var second in top.Value.EnumerateObject())
                {
                    if (ReadMappingValue(second.Value, Child(topPath, second.Name)) is { } value)
                    {
                        secondLevel[second.Name] = value;
                    }
                }
            }
        }
    }

    // Mappings hold literals only: AWS allows no parameters, pseudo-parameters or intrinsics there.
    private TemplateValue? ReadMappingValue(JsonElement value, string path)
    {
        if (Literal(value) is { } scalar)
        {
            return scalar;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            var items = new List<TemplateValue>();
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                if (Literal(item) is { } itemValue)
                {
                    items.Add(itemValue);
                }
                else
                {
                    Error(Index(path, index), $"a mapping list may hold only string literals, not {Describe(item.ValueKind)}");
                }

                index++;
            }

            return new ListValue(items);
        }

        Error(path, value.ValueKind == JsonValueKind.Object
            ? "a mapping value must be a string or a list of strings; Mappings may not contain parameters or intrinsic functions"
            : $"a mapping value must be a string or a list of strings, not {Describe(value.ValueKind)}");
        return null;
    }

    private Dictionary<string, string> ReadDeviceConfiguration(JsonElement section)
    {
        var configuration = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!ExpectObject(section, DeviceConfigurationSection))
        {
            return configuration;
        }

        foreach (var entry in section.EnumerateObject())
        {
            var path = Child(DeviceConfigurationSection, entry.Name);
            switch (Evaluate(entry.Value, path))
            {
                case null:
                case NoValue:
                    break;
                case ScalarValue scalar:
                    configuration[entry.Name] = scalar.Text;
                    break;
                case var other:
                    Error(path, $"DeviceConfiguration values must be strings; {Describe(other)} is not supported (the section is a flat key-value map)");
                    break;
            }
        }

        return configuration;
    }

    /// <summary>Resolves a parameter by name for Ref and Fn::Sub; reports at <paramref name="path"/>.</summary>
    private string? ResolveParameter(string name, string path)
    {
        if (_rejectedArguments.Contains(name))
        {
            return null;
        }

        if (_parameters.TryGetValue(name, out var declaration))
        {
            if (declaration is null || _validateOnly)
            {
                return null;
            }

            if (_arguments.TryGetValue(name, out var given) && given is not null)
            {
                return given;
            }

            if (declaration.Default is { } defaultValue)
            {
                return defaultValue;
            }

            Error(path, $"parameter {name} has no value: it was not passed and declares no Default");
            return null;
        }

        if (name.StartsWith(IotPseudoParameterPrefix, StringComparison.Ordinal))
        {
            if (_validateOnly)
            {
                return null;
            }

            if (_arguments.TryGetValue(name, out var given) && given is not null)
            {
                return given;
            }

            Error(path, $"parameter {name} has no value: it was not passed");
            return null;
        }

        Error(path, $"unknown parameter '{name}'; it is not declared in the Parameters section");
        return null;
    }

    private void Error(string path, string message) => _errors.Add(new TemplateError(path, message));

    private bool ExpectObject(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            return true;
        }

        Error(path, $"expected a JSON object, found {Describe(element.ValueKind)}");
        return false;
    }

    private static ScalarValue? Literal(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => ScalarValue.Of(element.GetString()!),
        JsonValueKind.Number => new ScalarValue(element.GetRawText(), JsonValueKind.Number),
        JsonValueKind.True => new ScalarValue("true", JsonValueKind.True),
        JsonValueKind.False => new ScalarValue("false", JsonValueKind.False),
        _ => null,
    };

    /// <summary>Values echoed in messages are cut short: a 4096-character parameter would drown the error.</summary>
    private static string Shorten(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");

    private static string Child(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Index(string path, int index) => $"{path}[{Text(index)}]";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Describe(TemplateValue value) => value switch
    {
        ObjectValue => "an object",
        ListValue => "a list",
        NoValue => "AWS::NoValue",
        ScalarValue s => Describe(s.Kind),
        _ => "an unknown value",
    };
}

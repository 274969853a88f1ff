using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fleetkey.Core.Json;
using Fleetkey.Core.Naming;

namespace Fleetkey.Templates;

// The Resources section: AWS::IoT::Thing, AWS::IoT::Certificate and AWS::IoT::Policy.
internal sealed partial class TemplateEvaluator
{
    private const string ThingType = "AWS::IoT::Thing";
    private const string CertificateType = "AWS::IoT::Certificate";
    private const string PolicyType = "AWS::IoT::Policy";

    // Relaxed escaping keeps an inline policy document readable ('+' and '#' in topic filters stay as
    // they are); the text is stored and hashed, never embedded in HTML.
    private static readonly JsonWriterOptions PolicyWriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed class PlanBuilder
    {
        public List<PlannedThing> Things { get; } = [];

        public List<PlannedCertificate> Certificates { get; } = [];

        public List<PlannedPolicy> Policies { get; } = [];
    }

    private void ReadResources(JsonElement section, PlanBuilder plan)
    {
        if (!ExpectObject(section, ResourcesSection))
        {
            return;
        }

        string? thingName = null, certificateName = null;
        foreach (var resource in section.EnumerateObject())
        {
            var path = Child(ResourcesSection, resource.Name);
            if (!ExpectObject(resource.Value, path))
            {
                continue;
            }

            string? type = null;
            JsonElement? properties = null, overrides = null;
            var included = true;
            foreach (var member in resource.Value.EnumerateObject())
            {
                var memberPath = Child(path, member.Name);
                switch (member.Name)
                {
                    case "Type":
                        type = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString() : null;
                        if (type is not (ThingType or CertificateType or PolicyType))
                        {
                            Error(memberPath, $"unknown resource type {member.Value.GetRawText()}; expected {ThingType}, {CertificateType} or {PolicyType}");
                            type = null;
                        }

                        break;
                    case "Properties":
                        properties = member.Value;
                        break;
                    case "OverrideSettings":
                        overrides = member.Value;
                        break;
                    case ConditionKey:
                        if (member.Value.ValueKind != JsonValueKind.String)
                        {
                            Error(memberPath, $"Condition takes a condition name as a string literal, not {Describe(member.Value.ValueKind)}");
                            included = false;
                        }
                        else
                        {
                            // A failed condition (null) excludes the resource; its error is already reported.
                            included = EvaluateConditionByName(member.Value.GetString()!, memberPath) == true;
                        }

                        break;
                    default:
                        Error(memberPath, $"unknown resource attribute '{member.Name}'; expected Type, Properties, OverrideSettings or Condition");
                        break;
                }
            }

            if (!resource.Value.TryGetProperty("Type", out _))
            {
                Error(Child(path, "Type"), "a resource must declare its Type");
            }

            // An excluded resource is not evaluated at all, so it may use parameters that are absent.
            if (type is null || !included)
            {
                continue;
            }

            var propertiesPath = Child(path, "Properties");
            if (properties is { } p && !ExpectObject(p, propertiesPath))
            {
                continue;
            }

            switch (type)
            {
                case ThingType:
                    {
                        var thing = ReadThing(resource.Name, properties, overrides, path);
                        if (thingName is not null)
                        {
                            Error(path, $"a template may declare only one {ThingType}; '{thingName}' is already declared");
                        }
                        else
                        {
                            thingName = resource.Name;
                            if (thing is not null)
                            {
                                plan.Things.Add(thing);
                            }
                        }

                        break;
                    }

                case CertificateType:
                    {
                        var certificate = ReadCertificate(resource.Name, properties, overrides, path);
                        if (certificateName is not null)
                        {
                            Error(path, $"a template may declare only one {CertificateType}; '{certificateName}' is already declared");
                        }
                        else
                        {
                            certificateName = resource.Name;
                            if (certificate is not null)
                            {
                                plan.Certificates.Add(certificate);
                            }
                        }

                        break;
                    }

                default:
                    if (overrides is not null)
                    {
                        Error(Child(path, "OverrideSettings"), "OverrideSettings are not available for policy resources");
                    }

                    if (ReadPolicy(resource.Name, properties, path) is { } policy)
                    {
                        plan.Policies.Add(policy);
                    }

                    break;
            }
        }
    }

    private PlannedThing? ReadThing(string logicalName, JsonElement? properties, JsonElement? overrides, TemplatePath path)
    {
        var propertiesPath = Child(path, "Properties");
        var failed = false;
        var nameReported = false;
        string? thingName = null, thingTypeName = null;
        Dictionary<string, string>? attributes = null;
        List<string>? groups = null;
        foreach (var property in Members(properties))
        {
            var propertyPath = Child(propertiesPath, property.Name);
            switch (property.Name)
            {
                case "ThingName":
                    var failedBefore = failed;
                    thingName = ReadName(property.Value, propertyPath, "ThingName", ref failed);
                    nameReported = failed && !failedBefore;
                    break;
                case "ThingTypeName":
                    thingTypeName = ReadName(property.Value, propertyPath, "ThingTypeName", ref failed);
                    break;
                case "AttributePayload":
                    attributes = ReadAttributes(property.Value, propertyPath, ref failed);
                    break;
                case "ThingGroups":
                    groups = ReadGroups(property.Value, propertyPath, ref failed);
                    break;
                case "BillingGroup":
                    Error(propertyPath, "billing groups are not supported by Fleetkey; remove BillingGroup");
                    failed = true;
                    break;
                case "PackageVersions":
                    Error(propertyPath, "PackageVersions is not supported by Fleetkey; remove it");
                    failed = true;
                    break;
                default:
                    Error(propertyPath, $"unknown property '{property.Name}' for {ThingType}; expected ThingName, AttributePayload, ThingTypeName or ThingGroups");
                    failed = true;
                    break;
            }
        }

        if (thingName is null && !nameReported)
        {
            Error(Child(propertiesPath, "ThingName"), "ThingName is required");
            failed = true;
        }

        OverrideAction? attributesOverride = null, typeOverride = null, groupsOverride = null;
        var overridesPath = Child(path, "OverrideSettings");
        foreach (var setting in OverrideMembers(overrides, overridesPath))
        {
            var settingPath = Child(overridesPath, setting.Name);
            switch (setting.Name)
            {
                case "AttributePayload" or "ATTRIBUTE_PAYLOAD":
                    SetOverride(ref attributesOverride, setting.Value, settingPath, "AttributePayload", allowMerge: true, ref failed);
                    break;
                case "ThingTypeName" or "THING_TYPE_NAME":
                    SetOverride(ref typeOverride, setting.Value, settingPath, "ThingTypeName", allowMerge: false, ref failed);
                    break;
                case "ThingGroups" or "THING_GROUPS":
                    SetOverride(ref groupsOverride, setting.Value, settingPath, "ThingGroups", allowMerge: true, ref failed);
                    break;
                default:
                    Error(settingPath, $"unknown override setting '{setting.Name}' for {ThingType}; expected AttributePayload, ThingTypeName or ThingGroups");
                    failed = true;
                    break;
            }
        }

        return failed || thingName is null
            ? null
            : new PlannedThing(logicalName, thingName, attributes, thingTypeName, groups, attributesOverride, typeOverride, groupsOverride);
    }

    private string? ReadName(JsonElement value, TemplatePath path, string property, ref bool failed)
    {
        var evaluated = Evaluate(value, path);
        if (evaluated is NoValue)
        {
            return null;
        }

        var name = evaluated is null ? null : StringOf(evaluated, path);
        if (name is null)
        {
            failed = true;
            return null;
        }

        if (!NameRules.IsRegistryName(name))
        {
            Error(path, $"{property} '{Shorten(name)}' must match [a-zA-Z0-9:_-]+ and be 1 to {Text(NameRules.MaxNameLength)} characters");
            failed = true;
            return null;
        }

        return name;
    }

    private Dictionary<string, string>? ReadAttributes(JsonElement value, TemplatePath path, ref bool failed)
    {
        switch (Evaluate(value, path))
        {
            case NoValue:
                return null;
            case null:
                failed = true;
                return null;
            case ObjectValue payload:
                {
                    var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var (name, attributeValue) in payload.Members)
                    {
                        var attributePath = Child(path, name);
                        if (StringOf(attributeValue, attributePath) is not { } text)
                        {
                            failed = true;
                            continue;
                        }

                        if (!NameRules.IsAttributeName(name))
                        {
                            Error(attributePath, $"attribute name '{Shorten(name)}' must match [a-zA-Z0-9_.,@/:#-]+ and be 1 to {Text(NameRules.MaxAttributeNameLength)} characters");
                            failed = true;
                        }
                        else if (!NameRules.IsAttributeValue(text))
                        {
                            Error(attributePath, $"attribute value '{Shorten(text)}' must match [a-zA-Z0-9_.,@/:#=\\[\\]-]* and be at most {Text(NameRules.MaxAttributeValueLength)} characters");
                            failed = true;
                        }
                        else
                        {
                            attributes[name] = text;
                        }
                    }

                    return attributes;
                }

            case var other:
                Error(path, $"AttributePayload must be an object of attribute names to string values, not {Describe(other)}");
                failed = true;
                return null;
        }
    }

    private List<string>? ReadGroups(JsonElement value, TemplatePath path, ref bool failed)
    {
        var groups = new List<string>();
        if (value.ValueKind == JsonValueKind.Array)
        {
            // A literal list: each element is checked at its own path.
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                var itemPath = Index(path, index++);
                switch (Evaluate(item, itemPath))
                {
                    case null: failed = true; break;
                    case NoValue: break;
                    case var group: failed |= !AddGroup(group, itemPath); break;
                }
            }

            return groups;
        }

        switch (Evaluate(value, path))
        {
            case null:
                failed = true;
                return null;
            case NoValue:
                return null;
            case ListValue list:
                // A computed list (Fn::Split, Fn::If, Fn::FindInMap): elements by their index in it.
                for (var i = 0; i < list.Items.Count; i++)
                {
                    failed |= !AddGroup(list.Items[i], Index(path, i));
                }

                return groups;
            case var other:
                Error(path, $"ThingGroups must be a list of thing group names, not {Describe(other)}");
                failed = true;
                return null;
        }

        bool AddGroup(TemplateValue group, TemplatePath groupPath)
        {
            if (StringOf(group, groupPath) is not { } name)
            {
                return false;
            }

            if (!NameRules.IsRegistryName(name))
            {
                Error(groupPath, $"thing group name '{Shorten(name)}' must match [a-zA-Z0-9:_-]+ and be 1 to {Text(NameRules.MaxNameLength)} characters");
                return false;
            }

            groups.Add(name);
            return true;
        }
    }

    private PlannedCertificate? ReadCertificate(string logicalName, JsonElement? properties, JsonElement? overrides, TemplatePath path)
    {
        var propertiesPath = Child(path, "Properties");
        var failed = false;
        string? certificateId = null, certificatePem = null, caCertificatePem = null, csr = null;
        var status = "ACTIVE";
        var sources = new List<string>();
        var sawCaPem = false;
        foreach (var property in Members(properties))
        {
            var propertyPath = Child(propertiesPath, property.Name);
            switch (property.Name)
            {
                // The guide's property list spells it CertificateID; its examples use CertificateId.
                case "CertificateId" or "CertificateID":
                    certificateId = ReadCertificateString(property, propertyPath, sources, ref failed);
                    if (certificateId is not null && !NameRules.IsCertificateId(certificateId))
                    {
                        Error(propertyPath, $"CertificateId '{Shorten(certificateId)}' must be {Text(NameRules.CertificateIdLength)} hexadecimal characters");
                        failed = true;
                    }

                    break;
                case "CertificatePem":
                    certificatePem = ReadCertificateString(property, propertyPath, sources, ref failed);
                    break;
                case "CertificateSigningRequest":
                    csr = ReadCertificateString(property, propertyPath, sources, ref failed);
                    break;
                case "CACertificatePem":
                    sawCaPem = true;
                    caCertificatePem = ReadOptionalString(property.Value, propertyPath, ref failed);
                    break;
                case "Status":
                    if (ReadOptionalString(property.Value, propertyPath, ref failed) is { } statusText)
                    {
                        // The guide's own fleet example writes "Active".
                        if (statusText.Equals("ACTIVE", StringComparison.OrdinalIgnoreCase) || statusText.Equals("INACTIVE", StringComparison.OrdinalIgnoreCase))
                        {
                            status = statusText.ToUpperInvariant();
                        }
                        else
                        {
                            Error(propertyPath, $"certificate Status '{Shorten(statusText)}' must be ACTIVE or INACTIVE");
                            failed = true;
                        }
                    }

                    break;
                default:
                    Error(propertyPath, $"unknown property '{property.Name}' for {CertificateType}; expected CertificateId, CertificatePem, CACertificatePem, CertificateSigningRequest or Status");
                    failed = true;
                    break;
            }
        }

        if (sources.Count != 1)
        {
            Error(propertiesPath, sources.Count == 0
                ? "a certificate needs exactly one of CertificateId, CertificatePem or CertificateSigningRequest; none is given"
                : $"a certificate needs exactly one of CertificateId, CertificatePem or CertificateSigningRequest; {string.Join(" and ", sources)} are given");
            failed = true;
        }

        if (sawCaPem && !sources.Contains("CertificatePem"))
        {
            Error(Child(propertiesPath, "CACertificatePem"), "CACertificatePem may only accompany CertificatePem");
            failed = true;
        }

        OverrideAction? statusOverride = null;
        var overridesPath = Child(path, "OverrideSettings");
        foreach (var setting in OverrideMembers(overrides, overridesPath))
        {
            var settingPath = Child(overridesPath, setting.Name);
            if (setting.Name == "Status")
            {
                SetOverride(ref statusOverride, setting.Value, settingPath, "Status", allowMerge: false, ref failed);
            }
            else
            {
                Error(settingPath, $"unknown override setting '{setting.Name}' for {CertificateType}; only Status may be overridden");
                failed = true;
            }
        }

        return failed ? null : new PlannedCertificate(logicalName, certificateId, certificatePem, caCertificatePem, csr, status, statusOverride);
    }

    private string? ReadCertificateString(JsonProperty property, TemplatePath path, List<string> sources, ref bool failed)
    {
        var evaluated = Evaluate(property.Value, path);
        if (evaluated is NoValue)
        {
            return null;
        }

        // A source that failed to evaluate still counts as given, so "none is given" is not added.
        sources.Add(property.Name is "CertificateID" ? "CertificateId" : property.Name);
        var text = evaluated is null ? null : StringOf(evaluated, path);
        failed |= text is null;
        return text;
    }

    private string? ReadOptionalString(JsonElement value, TemplatePath path, ref bool failed)
    {
        var evaluated = Evaluate(value, path);
        if (evaluated is NoValue)
        {
            return null;
        }

        var text = evaluated is null ? null : StringOf(evaluated, path);
        failed |= text is null;
        return text;
    }

    private PlannedPolicy? ReadPolicy(string logicalName, JsonElement? properties, TemplatePath path)
    {
        var propertiesPath = Child(path, "Properties");
        var failed = false;
        var given = 0;
        string? policyName = null, policyDocument = null;
        foreach (var property in Members(properties))
        {
            var propertyPath = Child(propertiesPath, property.Name);
            switch (property.Name)
            {
                case "PolicyName":
                    {
                        var evaluated = Evaluate(property.Value, propertyPath);
                        if (evaluated is NoValue)
                        {
                            break;
                        }

                        given++;
                        policyName = evaluated is null ? null : StringOf(evaluated, propertyPath);
                        if (policyName is null)
                        {
                            failed = true;
                        }
                        else if (!NameRules.IsPolicyName(policyName))
                        {
                            Error(propertyPath, $"PolicyName '{Shorten(policyName)}' must match [\\w+=,.@-]+ and be 1 to {Text(NameRules.MaxNameLength)} characters");
                            failed = true;
                        }

                        break;
                    }

                case "PolicyDocument":
                    {
                        var evaluated = Evaluate(property.Value, propertyPath);
                        if (evaluated is NoValue)
                        {
                            break;
                        }

                        given++;
                        policyDocument = evaluated is null ? null : PolicyDocumentText(evaluated, propertyPath);
                        failed |= policyDocument is null;
                        break;
                    }

                default:
                    Error(propertyPath, $"unknown property '{property.Name}' for {PolicyType}; expected PolicyName or PolicyDocument");
                    failed = true;
                    break;
            }
        }

        if (given != 1)
        {
            Error(propertiesPath, given == 0
                ? "a policy needs PolicyName (an existing policy) or PolicyDocument; neither is given"
                : "a policy takes PolicyName (an existing policy) or PolicyDocument, not both");
            failed = true;
        }

        if (failed)
        {
            return null;
        }

        return policyName is not null
            ? new PlannedPolicy(logicalName, policyName, null)
            : new PlannedPolicy(logicalName, TemplateEngine.PolicyNameForDocument(policyDocument!), policyDocument);
    }

    /// <summary>
    /// The guide wants an escaped JSON string; its fleet example passes an object. A string is kept
    /// verbatim (after checking it is a JSON object); an object is serialised compactly.
    /// </summary>
    private string? PolicyDocumentText(TemplateValue value, TemplatePath path)
    {
        switch (value)
        {
            case ScalarValue { Kind: JsonValueKind.String } scalar:
                {
                    // The text may come from a parameter: a lone surrogate in it must be an error here, not a throw.
                    using var parsed = StrictJsonText.Parse(scalar.Text, ParseOptions, out var problem);
                    if (parsed is null)
                    {
                        Error(path, $"PolicyDocument is not valid JSON: {problem}");
                        return null;
                    }

                    if (parsed.RootElement.ValueKind == JsonValueKind.Object)
                    {
                        return scalar.Text;
                    }

                    Error(path, "PolicyDocument must be a JSON object");
                    return null;
                }

            case ObjectValue document:
                {
                    // Its members may repeat shared values (Refs, mappings): measured before it is written.
                    var size = Size(document);
                    if (size > TemplateEngine.MaxStringLength)
                    {
                        Error(path, $"PolicyDocument would be more than {Text(TemplateEngine.MaxStringLength)} characters; at most {Text(TemplateEngine.MaxStringLength)} are allowed");
                        return null;
                    }

                    using var buffer = new MemoryStream();
                    using (var writer = new Utf8JsonWriter(buffer, PolicyWriterOptions))
                    {
                        WriteJson(writer, document);
                    }

                    return Encoding.UTF8.GetString(buffer.ToArray());
                }

            default:
                Error(path, $"PolicyDocument must be a JSON object or a string holding one, not {Describe(value)}");
                return null;
        }
    }

    private static void WriteJson(Utf8JsonWriter writer, TemplateValue value)
    {
        switch (value)
        {
            case ObjectValue obj:
                writer.WriteStartObject();
                foreach (var (name, member) in obj.Members)
                {
                    writer.WritePropertyName(name);
                    WriteJson(writer, member);
                }

                writer.WriteEndObject();
                break;
            case ListValue list:
                writer.WriteStartArray();
                foreach (var item in list.Items)
                {
                    WriteJson(writer, item);
                }

                writer.WriteEndArray();
                break;
            case ScalarValue { Kind: JsonValueKind.Number } number:
                writer.WriteRawValue(number.Text, skipInputValidation: true);
                break;
            case ScalarValue { Kind: JsonValueKind.True or JsonValueKind.False } boolean:
                writer.WriteBooleanValue(boolean.Kind == JsonValueKind.True);
                break;
            case ScalarValue scalar:
                writer.WriteStringValue(scalar.Text);
                break;
            default:
                // NoValue never reaches here: evaluation drops it from objects and lists.
                break;
        }
    }

    private void SetOverride(ref OverrideAction? target, JsonElement value, TemplatePath path, string property, bool allowMerge, ref bool failed)
    {
        if (target is not null)
        {
            Error(path, $"the override for {property} is given twice");
            failed = true;
            return;
        }

        if (EvaluateString(value, path) is not { } text)
        {
            failed = true;
            return;
        }

        OverrideAction? action = text switch
        {
            "DO_NOTHING" => OverrideAction.DoNothing,
            "REPLACE" => OverrideAction.Replace,
            "FAIL" => OverrideAction.Fail,
            "MERGE" => OverrideAction.Merge,
            _ => null,
        };
        if (action is null)
        {
            Error(path, $"override action '{Shorten(text)}' must be DO_NOTHING, REPLACE, FAIL or MERGE");
            failed = true;
        }
        else if (action == OverrideAction.Merge && !allowMerge)
        {
            Error(path, $"MERGE is valid only for AttributePayload and ThingGroups, not {property}");
            failed = true;
        }
        else
        {
            target = action;
        }
    }

    private JsonProperty[] OverrideMembers(JsonElement? overrides, TemplatePath path)
    {
        if (overrides is not { } o)
        {
            return [];
        }

        return ExpectObject(o, path) ? [.. o.EnumerateObject()] : [];
    }

    private static JsonProperty[] Members(JsonElement? properties) =>
        properties is { ValueKind: JsonValueKind.Object } p ? [.. p.EnumerateObject()] : [];

    private string? StringOf(TemplateValue value, TemplatePath path)
    {
        if (value is ScalarValue scalar)
        {
            return scalar.Text;
        }

        Error(path, $"expected a string, found {Describe(value)}");
        return null;
    }
}

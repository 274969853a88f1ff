using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fleetkey.Api.Wire;
using Xunit;

namespace Fleetkey.Api.Tests.Wire;

/// <summary>
/// The authorization table (<c>Wire/iot-authorization.json</c>, read as the product reads it: the embedded
/// resource) against the two service models: every operation has an entry, every member it reads is in
/// the operation's input, every resource type is declared and every name-built ARN is fully bound.
/// </summary>
public sealed partial class AuthorizationTableTests
{
    private static readonly JsonObject Table = Load();

    private static readonly HashSet<string> EntryFields = new(StringComparer.Ordinal)
    {
        "anonymous", "action", "accessLevel", "resources", "unmapped", "conditionKeys", "dependentActions", "note",
    };

    private static readonly HashSet<string> ResourceFields = new(StringComparer.Ordinal)
    {
        "type", "types", "member", "members", "arnMember", "required",
    };

    [Fact]
    public void Operations_EveryModelOperation_HasOneEntry()
    {
        var problems = new List<string>();
        foreach (var model in new[] { ServiceModel.Iot, ServiceModel.Fleetkey })
        {
            foreach (var name in model.OperationNames())
            {
                var count = (Operations.ContainsKey(name) ? 1 : 0) + (Pending.ContainsKey(name) ? 1 : 0);
                if (count != 1)
                {
                    problems.Add($"{name}: {count} entries");
                }
            }
        }

        Assert.Empty(problems);
        Assert.Equal(272, ServiceModel.Iot.OperationNames().Count());
    }

    [Fact]
    public void Operations_EveryEntry_NamesAModelOperation()
    {
        // A pending entry waits for its operation to reach fleetkey-extensions.json; an entry in
        // "operations" for no operation is a misspelling that would leave the real one uncovered.
        var unknown = Operations.Select(e => e.Key).Where(name => ModelOf(name) is null).ToList();
        Assert.Empty(unknown);
        Assert.DoesNotContain(Pending, e => ModelOf(e.Key) == ServiceModel.Iot);
    }

    [Fact]
    public void Entries_UseOnlyKnownFields()
    {
        var problems = new List<string>();
        foreach (var (name, entry) in AllEntries())
        {
            problems.AddRange(entry.Select(f => f.Key).Where(f => !EntryFields.Contains(f)).Select(f => $"{name}: field {f}"));
            if (IsAnonymous(entry))
            {
                continue;
            }

            if (entry["action"] is null || entry["resources"] is not JsonArray)
            {
                problems.Add($"{name}: no action or no resources");
                continue;
            }

            foreach (var resource in Resources(entry))
            {
                problems.AddRange(resource.Select(f => f.Key).Where(f => !ResourceFields.Contains(f)).Select(f => $"{name}: resource field {f}"));
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void Actions_IotOperations_AreTheIotActionOfTheSameName()
    {
        // The Service Authorization Reference has an action of the same name for each of the 272
        // operations (ListPrincipalThingsV2 and DeleteV2LoggingLevel included): no exceptions to list.
        var wrong = ServiceModel.Iot.OperationNames()
            .Where(name => Operations[name]?["action"]?.GetValue<string>() != "iot:" + name)
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void Actions_FleetkeyOperations_AreFleetkeyActionsOrAnonymous()
    {
        var wrong = new List<string>();
        foreach (var (name, entry) in AllEntries().Where(e => ModelOf(e.Name) != ServiceModel.Iot))
        {
            var anonymous = IsAnonymous(entry);
            var ok = anonymous
                ? entry["action"] is null && entry["resources"] is null
                : entry["action"]?.GetValue<string>() == "fleetkey:" + name;
            if (!ok)
            {
                wrong.Add(name);
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void Anonymous_OnlyTheUnauthenticatedRoutes()
    {
        var anonymous = AllEntries().Where(e => IsAnonymous(e.Entry)).Select(e => e.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["DeviceRegister", "Health"], anonymous);
    }

    [Fact]
    public void Resources_EveryType_IsDeclared()
    {
        var declared = Table["resourceTypes"]!.AsObject().Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, entry) in AllEntries())
        {
            var used = Resources(entry)
                .SelectMany(r => (r["types"] as JsonArray ?? []).Append(r["type"]))
                .Concat(entry["unmapped"] as JsonArray ?? [])
                .OfType<JsonNode>()
                .Select(t => t.GetValue<string>());
            problems.AddRange(used.Where(t => !declared.Contains(t)).Select(t => $"{name}: {t}"));
        }

        Assert.Empty(problems);
        Assert.DoesNotContain(Table["resourceTypeConditionKeys"]!.AsObject(), t => !declared.Contains(t.Key));
    }

    [Fact]
    public void Resources_EachOne_SaysWhereItsArnComesFrom()
    {
        var problems = new List<string>();
        foreach (var (name, entry) in AllEntries())
        {
            foreach (var resource in Resources(entry))
            {
                var type = resource["type"]?.GetValue<string>();
                var byName = resource["member"] is not null || resource["members"] is not null;
                if (resource["member"] is not null && resource["members"] is not null)
                {
                    problems.Add($"{name}: both member and members");
                }

                if (type is null)
                {
                    // The member's value is the resource ARN as given; types says which SAR types it stands for.
                    if (byName || resource["arnMember"] is null || resource["types"] is not JsonArray { Count: > 0 })
                    {
                        problems.Add($"{name}: a resource without type needs arnMember and types");
                    }

                    continue;
                }

                if (resource["types"] is not null)
                {
                    problems.Add($"{name}: both type and types");
                }

                if (!byName)
                {
                    if (resource["arnMember"] is null)
                    {
                        problems.Add($"{name}: {type} has no member");
                    }

                    continue;
                }

                // An ARN built from names needs every placeholder of its type bound: member binds {name}.
                var placeholders = Placeholder().Matches(Table["resourceTypes"]![type]!.GetValue<string>())
                    .Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
                var bound = resource["members"] is JsonObject parts ? parts.Select(p => p.Key) : ["name"];
                if (!placeholders.SequenceEqual(bound.Order(StringComparer.Ordinal)))
                {
                    problems.Add($"{name}: {type} binds {string.Join(',', bound)}");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void Resources_EveryMember_IsAStringOfTheOperationsInput()
    {
        var problems = new List<string>();
        foreach (var (name, entry) in AllEntries())
        {
            if (ModelOf(name) is not { } model)
            {
                continue; // pending: its members are checked once the model has the operation
            }

            var input = model.Operation(name).InputShape is { } shape ? model.Shape(shape)["members"]!.AsObject() : [];
            foreach (var resource in Resources(entry))
            {
                var members = (resource["members"] as JsonObject ?? []).Select(p => p.Value)
                    .Append(resource["member"]).Append(resource["arnMember"])
                    .OfType<JsonNode>().Select(m => m.GetValue<string>());
                foreach (var member in members)
                {
                    if (input[member] is not JsonObject reference)
                    {
                        problems.Add($"{name}: no input member {member}");
                    }
                    else if (!IsStringOrStringList(model, reference["shape"]!.GetValue<string>()))
                    {
                        problems.Add($"{name}: {member} is neither a string nor a list of strings");
                    }
                }
            }
        }

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("DeleteCACertificate", "cacert=certificateId", "")]
    [InlineData("UpdateCACertificate", "cacert=certificateId", "")]
    [InlineData("UpdateCertificate", "cert=certificateId", "")]
    [InlineData("DeleteCertificate", "cert=certificateId", "")]
    [InlineData("CreateKeysAndCertificate", "", "")]
    [InlineData("RegisterThing", "", "")]
    [InlineData("DeleteThing", "thing=thingName", "")]
    [InlineData("CreateThing", "thing=thingName billinggroup=billingGroupName?", "")]
    [InlineData("ListThingPrincipals", "thing=thingName", "")]
    [InlineData("AttachThingPrincipal", "cert@principal?", "iot:thingArn")]
    [InlineData("DetachThingPrincipal", "cert@principal?", "iot:thingArn")]
    [InlineData("AttachPolicy", "cert|thinggroup@target?", "")]
    [InlineData("AddThingToThingGroup", "thing=thingName@thingArn thinggroup=thingGroupName@thingGroupArn", "")]
    [InlineData("CreatePolicy", "policy=policyName", "aws:RequestTag/${TagKey} aws:TagKeys")]
    [InlineData("DeletePolicy", "policy=policyName", "")]
    [InlineData("CreateProvisioningTemplate", "provisioningtemplate=templateName", "aws:RequestTag/${TagKey} aws:TagKeys")]
    [InlineData("CreateEnrollmentGroup", "enrollmentgroup=enrollmentGroupName", "")]
    [InlineData("DescribeEnrollment", "enrollment=serialNumber", "")]
    [InlineData("RotateAccessKey", "accesskey=accessKeyId", "")]
    [InlineData("ListAuditRecords", "", "")]
    public void Entry_ServiceAuthorizationReferenceFacts_AreKept(string operation, string resources, string conditionKeys)
    {
        var entry = AllEntries().Single(e => e.Name == operation).Entry;

        Assert.Equal(resources, string.Join(' ', Resources(entry).Select(Describe)));
        Assert.Equal(conditionKeys, string.Join(' ', (entry["conditionKeys"] as JsonArray ?? []).Select(k => k!.GetValue<string>())));
    }

    private static string Describe(JsonObject resource) =>
        (resource["type"]?.GetValue<string>() ?? string.Join('|', resource["types"]!.AsArray().Select(t => t!.GetValue<string>())))
        + (resource["member"] is { } member ? "=" + member.GetValue<string>() : "")
        + (resource["arnMember"] is { } arn ? "@" + arn.GetValue<string>() : "")
        + (resource["required"]?.GetValue<bool>() == false ? "?" : "");

    private static JsonObject Operations => Table["operations"]!.AsObject();

    private static JsonObject Pending => Table["pendingOperations"]!.AsObject();

    private static IEnumerable<(string Name, JsonObject Entry)> AllEntries() =>
        Operations.Concat(Pending).Select(e => (e.Key, e.Value!.AsObject()));

    private static IEnumerable<JsonObject> Resources(JsonObject entry) =>
        (entry["resources"] as JsonArray ?? []).Select(r => r!.AsObject());

    private static bool IsAnonymous(JsonObject entry) => entry["anonymous"]?.GetValue<bool>() == true;

    private static ServiceModel? ModelOf(string operation) =>
        ServiceModel.Iot.OperationNames().Contains(operation) ? ServiceModel.Iot
        : ServiceModel.Fleetkey.OperationNames().Contains(operation) ? ServiceModel.Fleetkey
        : null;

    private static bool IsStringOrStringList(ServiceModel model, string shapeName)
    {
        var shape = model.Shape(shapeName);
        return shape.Str("type") switch
        {
            "string" => true,
            "list" => model.Shape(shape["member"]!.Str("shape")!).Str("type") == "string",
            _ => false,
        };
    }

    private static JsonObject Load()
    {
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream("Fleetkey.Api.Wire.iot-authorization.json")
            ?? throw new InvalidOperationException("The embedded authorization table is missing.");
        return JsonNode.Parse(stream)!.AsObject();
    }

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Placeholder();
}

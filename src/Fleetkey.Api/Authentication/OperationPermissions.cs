using System.Text.Json.Nodes;
using Fleetkey.Api.Wire;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// One resource an action names: its ARN built from <see cref="Format"/> with members of the input
/// (<see cref="Members"/>: placeholder → member; a list member gives one resource per element), or taken
/// whole from <see cref="ArnMember"/>.
/// </summary>
/// <param name="Format">The ARN's resource part, e.g. <c>thing/{name}</c>; null when only an ARN member is given.</param>
internal sealed record ResourceSpec(string? Type, string? Format, IReadOnlyDictionary<string, string> Members, string? ArnMember);

/// <summary>What authorizing an operation needs: its IAM action, the resources it is decided on, and whether it sets <c>iot:thingArn</c>.</summary>
internal sealed record OperationPermission(string Operation, string? Action, IReadOnlyList<ResourceSpec> Resources, bool Anonymous, bool ThingArnKey);

/// <summary>
/// The action and resources of every operation, as the AWS Service Authorization Reference lists them for
/// AWS IoT (and as Fleetkey names its own routes' actions): read from the embedded
/// <c>iot-authorization.json</c>, which a test keeps consistent with both service models.
/// </summary>
internal static class OperationPermissions
{
    private static readonly Dictionary<string, OperationPermission> Table = Load();

    public static OperationPermission? For(string operation) => Table.GetValueOrDefault(operation);

    public static IEnumerable<OperationPermission> All => Table.Values;

    /// <summary>The resource ARNs of one request: each spec whose members the request has.</summary>
    public static List<string> Resources(OperationPermission permission, JsonObject? input, Func<string, string?> routeValue, string region, string accountId)
    {
        var resources = new List<string>(permission.Resources.Count);
        foreach (var spec in permission.Resources)
        {
            if (spec.ArnMember is { } arnMember && Values(arnMember) is { Count: > 0 } arns)
            {
                resources.AddRange(arns);
                continue;
            }

            if (spec.Format is null || spec.Members.Count == 0)
            {
                continue;
            }

            // One placeholder may be a list member (thingGroupsToAdd): one resource per element.
            var parts = spec.Members.Select(m => (Placeholder: "{" + m.Key + "}", Values: Values(m.Value))).ToList();
            if (parts.Any(p => p.Values.Count == 0))
            {
                continue;
            }

            var fixedParts = parts.Where(p => p.Values.Count == 1).ToList();
            var listPart = parts.FirstOrDefault(p => p.Values.Count > 1);
            foreach (var value in listPart.Values ?? [string.Empty])
            {
                var name = spec.Format;
                foreach (var (placeholder, values) in fixedParts)
                {
                    name = name.Replace(placeholder, values[0], StringComparison.Ordinal);
                }

                if (listPart.Values is not null)
                {
                    name = name.Replace(listPart.Placeholder, value, StringComparison.Ordinal);
                }

                resources.Add($"arn:aws:iot:{region}:{accountId}:{name}");
            }
        }

        return resources;

        List<string> Values(string member)
        {
            if (input is not null && input.TryGetPropertyValue(member, out var node))
            {
                return node switch
                {
                    JsonValue value when value.TryGetValue<string>(out var text) && text.Length > 0 => [text],
                    JsonArray array => [.. array.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var t) ? t : null).OfType<string>().Where(t => t.Length > 0)],
                    _ => [],
                };
            }

            return routeValue(member) is { Length: > 0 } route ? [route] : [];
        }
    }

    /// <summary>The thing's ARN for <c>iot:thingArn</c> (Attach/DetachThingPrincipal), from the input's <c>thingName</c>.</summary>
    public static string? ThingArn(OperationPermission permission, JsonObject? input, Func<string, string?> routeValue, string region, string accountId)
    {
        if (!permission.ThingArnKey)
        {
            return null;
        }

        var name = input?["thingName"] is JsonValue v && v.TryGetValue<string>(out var t) ? t : routeValue("thingName");
        return name is { Length: > 0 } ? $"arn:aws:iot:{region}:{accountId}:thing/{name}" : null;
    }

    private static Dictionary<string, OperationPermission> Load()
    {
        using var stream = typeof(OperationPermissions).Assembly.GetManifestResourceStream("Fleetkey.Api.Wire.iot-authorization.json")
            ?? throw new InvalidOperationException("The embedded authorization table iot-authorization.json is missing.");
        var root = JsonNode.Parse(stream)!.AsObject();
        var formats = root["resourceTypes"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal);
        var table = new Dictionary<string, OperationPermission>(StringComparer.Ordinal);
        foreach (var section in new[] { "operations", "pendingOperations" })
        {
            if (root[section] is not JsonObject operations)
            {
                continue;
            }

            foreach (var (name, node) in operations)
            {
                var resources = (node!["resources"] as JsonArray ?? [])
                    .Select(r => new ResourceSpec(r.Str("type"), r.Str("type") is { } type ? formats[type] : null, Members(r!), r.Str("arnMember")))
                    .ToList();
                var anonymous = node["anonymous"] is JsonValue a && a.GetValue<bool>();
                var thingArnKey = node["conditionKeys"] is JsonArray keys && keys.Any(k => string.Equals(k?.GetValue<string>(), "iot:thingArn", StringComparison.OrdinalIgnoreCase));
                table[name] = new OperationPermission(name, node.Str("action"), resources, anonymous, thingArnKey);
            }
        }

        return table;
    }

    // "member": the value of {name}; "members": each placeholder's member.
    private static Dictionary<string, string> Members(JsonNode spec)
    {
        var members = new Dictionary<string, string>(StringComparer.Ordinal);
        if (spec.Str("member") is { } member)
        {
            members["name"] = member;
        }

        if (spec["members"] is JsonObject map)
        {
            foreach (var (placeholder, value) in map)
            {
                members[placeholder] = value!.GetValue<string>();
            }
        }

        return members;
    }
}

namespace Fleetkey.Templates.Tests;

/// <summary>
/// Renders a plan as one line per resource so that a table row can state the whole expected plan,
/// including which members are absent ("-") rather than empty.
/// </summary>
internal static class PlanText
{
    public static string Render(ProvisioningPlan plan)
    {
        var lines = new List<string>();
        foreach (var t in plan.Things)
        {
            lines.Add($"thing {t.LogicalName} name={t.ThingName} type={t.ThingTypeName ?? "-"} attributes={Map(t.Attributes)} groups={List(t.ThingGroups)} override={Action(t.AttributePayloadOverride)}/{Action(t.ThingTypeNameOverride)}/{Action(t.ThingGroupsOverride)}");
        }

        foreach (var c in plan.Certificates)
        {
            lines.Add($"certificate {c.LogicalName} id={c.CertificateId ?? "-"} pem={c.CertificatePem ?? "-"} ca={c.CaCertificatePem ?? "-"} csr={c.CertificateSigningRequest ?? "-"} status={c.Status} override={Action(c.StatusOverride)}");
        }

        foreach (var p in plan.Policies)
        {
            lines.Add($"policy {p.LogicalName} name={p.PolicyName} document={p.PolicyDocument ?? "-"}");
        }

        foreach (var (key, value) in plan.DeviceConfiguration)
        {
            lines.Add($"config {key}={value}");
        }

        return string.Join("\n", lines);
    }

    private static string Map(IReadOnlyDictionary<string, string>? map) =>
        map is null ? "-" : "{" + string.Join(",", map.Select(kv => $"{kv.Key}={kv.Value}")) + "}";

    private static string List(IReadOnlyList<string>? list) =>
        list is null ? "-" : "[" + string.Join(",", list) + "]";

    private static string Action(OverrideAction? action) => action?.ToString() ?? "-";
}

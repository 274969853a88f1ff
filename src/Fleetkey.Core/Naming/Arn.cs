using System.Diagnostics.CodeAnalysis;

namespace Fleetkey.Core.Naming;

/// <summary>Builds and parses AWS IoT ARNs: <c>arn:aws:iot:REGION:ACCOUNT:TYPE/NAME</c>.</summary>
public static class Arn
{
    public static string For(IotScope scope, ResourceKind kind, string name) =>
        string.Concat(scope.ArnPrefix, TypeWord(kind), "/", name);

    public static string Thing(IotScope scope, string name) => For(scope, ResourceKind.Thing, name);

    public static string ThingType(IotScope scope, string name) => For(scope, ResourceKind.ThingType, name);

    public static string ThingGroup(IotScope scope, string name) => For(scope, ResourceKind.ThingGroup, name);

    public static string TypeWord(ResourceKind kind) => kind switch
    {
        ResourceKind.Thing => "thing",
        ResourceKind.ThingType => "thingtype",
        ResourceKind.ThingGroup => "thinggroup",
        ResourceKind.Certificate => "cert",
        ResourceKind.CaCertificate => "cacert",
        ResourceKind.Policy => "policy",
        ResourceKind.ProvisioningTemplate => "provisioningtemplate",
        ResourceKind.EnrollmentGroup => "enrollmentgroup",
        ResourceKind.Enrollment => "enrollment",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Parses an IoT ARN of one of the known resource kinds. Any region is accepted (the region of an
    /// ARN is the caller's); the account must be ours, else the resource cannot exist.
    /// </summary>
    public static bool TryParse(string? arn, [NotNullWhen(true)] out ParsedArn? parsed)
    {
        parsed = null;
        if (arn is null)
        {
            return false;
        }

        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "iot" || parts[1].Length == 0)
        {
            return false;
        }

        var slash = parts[5].IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == parts[5].Length - 1)
        {
            return false;
        }

        ResourceKind? kind = parts[5][..slash] switch
        {
            "thing" => ResourceKind.Thing,
            "thingtype" => ResourceKind.ThingType,
            "thinggroup" => ResourceKind.ThingGroup,
            "cert" => ResourceKind.Certificate,
            "cacert" => ResourceKind.CaCertificate,
            "policy" => ResourceKind.Policy,
            "provisioningtemplate" => ResourceKind.ProvisioningTemplate,
            "enrollmentgroup" => ResourceKind.EnrollmentGroup,
            "enrollment" => ResourceKind.Enrollment,
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        parsed = new ParsedArn(parts[3], parts[4], kind.Value, parts[5][(slash + 1)..]);
        return true;
    }
}

public sealed record ParsedArn(string Region, string AccountId, ResourceKind Kind, string Name);

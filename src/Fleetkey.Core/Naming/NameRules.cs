using System.Text.RegularExpressions;
using Fleetkey.Core.Errors;

namespace Fleetkey.Core.Naming;

/// <summary>
/// The AWS IoT name and value rules (service model patterns and lengths) that the application layer
/// applies itself, for input that does not come through the HTTP model binder (templates, MQTT).
/// </summary>
public static partial class NameRules
{
    public const int MaxNameLength = 128;
    public const int MaxAttributeNameLength = 128;
    public const int MaxAttributeValueLength = 800;
    public const int MaxAttributesWithoutType = 3;
    public const int MaxAttributesWithType = 50;
    public const int MaxGroupsPerThing = 10;
    public const int MaxGroupDepth = 7;
    public const int MaxSearchableAttributes = 3;
    public const int MaxTagsPerResource = 50;

    [GeneratedRegex(@"^[a-zA-Z0-9:_-]+\z")]
    private static partial Regex RegistryName();

    [GeneratedRegex(@"^[a-zA-Z0-9_.,@/:#-]+\z")]
    private static partial Regex AttributeNamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_.,@/:#=\[\]-]*\z")]
    private static partial Regex AttributeValuePattern();

    // The model says [\w+=,.@-]+; Java's \w is ASCII-only, .NET's is not, so it is spelled out.
    [GeneratedRegex(@"^[a-zA-Z0-9_+=,.@-]+\z")]
    private static partial Regex PolicyNamePattern();

    [GeneratedRegex(@"^(0x)?[a-fA-F0-9]+\z")]
    private static partial Regex CertificateIdPattern();

    public const int CertificateIdLength = 64;

    // The regionRegex of every partition in botocore's data/partitions.json (1.43): aws
    // ^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$, aws-cn ^cn\-\w+\-\d+$, aws-us-gov ^us\-gov\-\w+\-\d+$,
    // aws-iso ^us\-iso\-…, aws-iso-b ^us\-isob\-…, aws-iso-e ^eu\-isoe\-…, aws-iso-f ^us\-isof\-…,
    // aws-eusc ^eusc\-(de)\-…; \w and \d narrowed to what a region name may hold (IsRegion).
    [GeneratedRegex(@"^(?:(?:us|eu|ap|sa|ca|me|af|il|mx|cn)|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z0-9]+-[0-9]+\z")]
    private static partial Regex AwsRegionPattern();

    public static bool IsRegistryName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && RegistryName().IsMatch(name);

    public static bool IsAttributeName(string? name) =>
        name is { Length: > 0 and <= MaxAttributeNameLength } && AttributeNamePattern().IsMatch(name);

    public static bool IsAttributeValue(string? value) =>
        value is { Length: <= MaxAttributeValueLength } && AttributeValuePattern().IsMatch(value);

    public static bool IsPolicyName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && PolicyNamePattern().IsMatch(name);

    public static bool IsCertificateId(string? id) =>
        id is { Length: CertificateIdLength } && CertificateIdPattern().IsMatch(id);

    /// <summary>
    /// The shape of a region name: 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'. What a
    /// stored row may hold (an import checks it; older releases took any such name from a signature);
    /// a request must be signed for an AWS region (<see cref="IsAwsRegion"/>).
    /// </summary>
    public static bool IsRegion(string? region)
    {
        if (region is not { Length: > 0 and <= 63 } || region[0] == '-' || region[^1] == '-')
        {
            return false;
        }

        foreach (var c in region)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A region of AWS, present or to come: a name of the shape one of AWS's partitions gives its
    /// regions (us-east-1, eu-central-2, cn-north-1, us-gov-west-1, …), as botocore's partitions.json
    /// describes them. What a request may be signed for and so what its ARNs may name: a name outside
    /// them (a typo, <c>not-a-region</c>, <c>local</c>) would name ARNs no AWS tool or policy expects.
    /// </summary>
    public static bool IsAwsRegion(string? region) => IsRegion(region) && AwsRegionPattern().IsMatch(region!);

    /// <summary>Thing, thing type and thing group names share one rule.</summary>
    public static void EnsureRegistryName(string? name, string field)
    {
        if (!IsRegistryName(name))
        {
            ThrowHelper.InvalidRequest(
                $"1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+ and have length between 1 and 128");
        }
    }

    public static void EnsureAttributes(IReadOnlyDictionary<string, string> attributes, string field)
    {
        foreach (var (key, value) in attributes)
        {
            if (!IsAttributeName(key))
            {
                ThrowHelper.InvalidRequest(
                    $"1 validation error detected: Value '{key}' at '{field}' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#-]+, Member must have length less than or equal to 128]");
            }

            if (!IsAttributeValue(value))
            {
                ThrowHelper.InvalidRequest(
                    $"1 validation error detected: Value '{value}' at '{field}.{key}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.,@/:#=\\[\\]-]* and have length less than or equal to 800");
            }
        }
    }
}

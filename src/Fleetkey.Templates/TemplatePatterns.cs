using System.Text.RegularExpressions;

namespace Fleetkey.Templates;

/// <summary>
/// AWS IoT service-model patterns for the names a template produces. They are checked here, not only
/// when the plan is applied, so that an author sees every bad name with its template path at once.
/// </summary>
internal static partial class TemplatePatterns
{
    public const int MaxNameLength = 128;
    public const int MaxAttributeNameLength = 128;
    public const int MaxAttributeValueLength = 800;
    public const int CertificateIdLength = 64;

    // Thing, thing type and thing group names share one pattern.
    [GeneratedRegex(@"^[a-zA-Z0-9:_-]+\z")]
    private static partial Regex RegistryNamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_.,@/:#-]+\z")]
    private static partial Regex AttributeNamePattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_.,@/:#=\[\]-]*\z")]
    private static partial Regex AttributeValuePattern();

    // The model says [\w+=,.@-]+; Java's \w is ASCII-only, .NET's is not, so spell it out.
    [GeneratedRegex(@"^[a-zA-Z0-9_+=,.@-]+\z")]
    private static partial Regex PolicyNamePattern();

    [GeneratedRegex(@"^(0x)?[a-fA-F0-9]+\z")]
    private static partial Regex CertificateIdPattern();

    public static bool IsRegistryName(string value) =>
        value.Length is > 0 and <= MaxNameLength && RegistryNamePattern().IsMatch(value);

    public static bool IsAttributeName(string value) =>
        value.Length is > 0 and <= MaxAttributeNameLength && AttributeNamePattern().IsMatch(value);

    public static bool IsAttributeValue(string value) =>
        value.Length <= MaxAttributeValueLength && AttributeValuePattern().IsMatch(value);

    public static bool IsPolicyName(string value) =>
        value.Length is > 0 and <= MaxNameLength && PolicyNamePattern().IsMatch(value);

    public static bool IsCertificateId(string value) =>
        value.Length == CertificateIdLength && CertificateIdPattern().IsMatch(value);
}

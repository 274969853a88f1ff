using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fleetkey.Core.Json;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Policies;
using Fleetkey.Services.Access;
using Fleetkey.Services.Devices;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Fleetkey.Templates;

namespace Fleetkey.Services.Transfer;

/// <summary>
/// What each column of each exported table must hold for the product to work on it, checked on every
/// imported row: the rules the services apply when they write (names and their patterns, enumerations,
/// positive versions, JSON shapes, key and secret forms), whether or not the database enforces them.
/// One place to read them; <see cref="FleetImportChecker"/> applies them, with the rules that span columns.
/// </summary>
internal static partial class ImportRules
{
    // AWS's model maxima for descriptions (thingTypeDescription, thingGroupDescription, templateDescription).
    private const int MaxRegistryDescription = 2028;
    private const int MaxTemplateDescription = 500;

    // Free text with no rule of its own (an access key's description, an audit reason): a bound only.
    private const int MaxFreeText = 64 * 1024;

    // A policy document's whitespace does not count towards AWS's quota; only the request size bounds it.
    private const int MaxPolicyDocument = 2 * 1024 * 1024;

    private const int MaxPem = 64 * 1024;

    [GeneratedRegex(@"^[0-9a-f]{64}\z")]
    private static partial Regex LowerHex64Pattern();

    // A serial number as stored: hex of the DER INTEGER's content octets (RFC 5280 allows 20; registered certificates may break it).
    [GeneratedRegex(@"^(?:[0-9a-f]{2}){1,64}\z")]
    private static partial Regex SerialNumberPattern();

    [GeneratedRegex(@"^[0-9]{12}\z")]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex(@"^[0-9A-Za-z_-]{1,36}\z")]
    private static partial Regex TemplateNamePattern();

    [GeneratedRegex(@"^[a-z_]{1,32}\z")]
    private static partial Regex OutcomePattern();

    /// <summary>The columns of every exported table.</summary>
    public static IReadOnlyDictionary<string, ImportColumn[]> Tables { get; } = new Dictionary<string, ImportColumn[]>(StringComparer.Ordinal)
    {
        ["access_keys"] =
        [
            ImportColumn.Text("access_key_id", AccessKeyId),
            ImportColumn.Text("secret_access_key", SecretAccessKey, secret: true),
            ImportColumn.Text("description", v => Bounded(v, MaxFreeText), nullable: true),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Text("status", v => v is "Active" or "Inactive" ? null : $"{Quote(v)} is neither Active nor Inactive"),
            ImportColumn.Integer("full_access", Flag),
            ImportColumn.Text("secret_kek_salt", KekSalt, nullable: true),
            ImportColumn.Text("previous_secret", SecretAccessKey, nullable: true, secret: true),
            ImportColumn.Text("previous_secret_kek_salt", KekSalt, nullable: true),
            ImportColumn.Integer("previous_secret_expires_at", Instant, nullable: true),
            ImportColumn.Integer("last_used_at", Instant, nullable: true),
            ImportColumn.Text("last_used_source", v => Bounded(v, 1024), nullable: true),
        ],
        ["access_key_policies"] =
        [
            ImportColumn.Text("access_key_id", AccessKeyId),
            ImportColumn.Text("policy_name", v => v.Length is >= 1 and <= 128 ? null : $"{Quote(v)} is not a policy name of 1 to 128 characters"),
            ImportColumn.Text("document", IdentityPolicyDocument),
            ImportColumn.Integer("attached_at", Instant),
        ],
        ["audit_records"] =
        [
            // The trail keeps what a request named, valid or not (bounded): only its form is fixed. Its hash
            // chain is checked by `fleetkey audit verify` after the import, not here.
            ImportColumn.Integer("sequence", Positive),
            ImportColumn.Integer("recorded_at", Instant),
            ImportColumn.Text("request_id", v => Bounded(v, 1024)),
            ImportColumn.Text("channel", v => v is "api" or "cli" ? null : $"{Quote(v)} is neither api nor cli"),
            ImportColumn.Text("access_key_id", v => Bounded(v, 1024), nullable: true),
            ImportColumn.Text("operation", v => Bounded(v, 1024)),
            ImportColumn.Text("resources", JsonArray),
            ImportColumn.Text("source", v => Bounded(v, 1024), nullable: true),
            ImportColumn.Text("user_agent", v => Bounded(v, 1024), nullable: true),
            ImportColumn.Integer("status", v => v is >= 100 and <= 599 ? null : string.Create(CultureInfo.InvariantCulture, $"{v} is not an HTTP status")),
            ImportColumn.Text("error_code", v => Bounded(v, 1024), nullable: true),
            ImportColumn.Text("hash", LowerHex64),
        ],
        ["audit_chain"] =
        [
            ImportColumn.Integer("id", v => v == 1 ? null : string.Create(CultureInfo.InvariantCulture, $"{v} is not 1 (the chain has one row)")),
            ImportColumn.Integer("last_sequence", NonNegative),
            ImportColumn.Text("last_hash", LowerHex64),
            ImportColumn.Integer("anchor_sequence", NonNegative),
            ImportColumn.Text("anchor_hash", LowerHex64),
        ],
        ["thing_types"] =
        [
            ImportColumn.Text("name", RegistryName),
            ImportColumn.Text("thing_type_id", Uuid),
            ImportColumn.Text("description", v => Bounded(v, MaxRegistryDescription), nullable: true),
            ImportColumn.Text("searchable_attributes", SearchableAttributes),
            ImportColumn.Text("mqtt5_configuration", JsonObject, nullable: true),
            ImportColumn.Integer("deprecated", Flag),
            ImportColumn.Integer("deprecated_at", Instant, nullable: true),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["things"] =
        [
            ImportColumn.Text("name", RegistryName),
            ImportColumn.Text("thing_id", Uuid),
            ImportColumn.Text("type_name", RegistryName, nullable: true),
            ImportColumn.Text("attributes", AttributeMap),
            ImportColumn.Integer("version", Positive),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["thing_attributes"] =
        [
            ImportColumn.Text("thing_name", RegistryName),
            ImportColumn.Text("name", v => NameRules.IsAttributeName(v) ? null : $"{Quote(v)} is not an attribute name ([a-zA-Z0-9_.,@/:#-]+, up to {NameRules.MaxAttributeNameLength} characters)"),
            ImportColumn.Text("value", AttributeValue),
        ],
        ["thing_groups"] =
        [
            ImportColumn.Text("name", RegistryName),
            ImportColumn.Text("thing_group_id", Uuid),
            ImportColumn.Text("parent_name", RegistryName, nullable: true),
            ImportColumn.Text("path", GroupPath),
            ImportColumn.Text("description", v => Bounded(v, MaxRegistryDescription), nullable: true),
            ImportColumn.Text("attributes", AttributeMap),
            ImportColumn.Integer("version", Positive),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["thing_group_members"] =
        [
            ImportColumn.Text("group_name", RegistryName),
            ImportColumn.Text("thing_name", RegistryName),
            ImportColumn.Integer("added_at", Instant),
        ],
        ["tags"] =
        [
            ImportColumn.Text("resource_kind", OneOf(ThingTypeService.TagKind, ThingGroupService.TagKind, PolicyService.TagKind, ProvisioningTemplateService.TagKind, CaCertificateService.TagKind)),
            ImportColumn.Text("resource_name", v => Bounded(v, NameRules.MaxNameLength)),
            ImportColumn.Text("tag_key", TagKey),
            ImportColumn.Text("tag_value", v => Bounded(v, 256)),
        ],
        ["ca_certificates"] =
        [
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("pem", v => Bounded(v, MaxPem)),
            ImportColumn.Text("subject", v => Bounded(v, MaxPem)),
            ImportColumn.Text("status", OneOf(CertificateStatus.Active, CertificateStatus.Inactive)),
            ImportColumn.Text("auto_registration", OneOf(AutoRegistrationStatus.Enable, AutoRegistrationStatus.Disable)),
            ImportColumn.Integer("managed", Flag),
            ImportColumn.Integer("not_before", Instant),
            ImportColumn.Integer("not_after", Instant),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
            ImportColumn.Integer("customer_version", Positive),
            ImportColumn.Text("generation_id", Uuid),
            ImportColumn.Text("certificate_mode", OneOf(CaCertificateMode.Default, CaCertificateMode.SniOnly)),
            ImportColumn.Text("template_body", TemplateBody, nullable: true),
            ImportColumn.Text("template_name", TemplateName, nullable: true),
            ImportColumn.Text("role_arn", RoleArn, nullable: true),
        ],
        ["registration_codes"] =
        [
            ImportColumn.Text("account_id", v => AccountIdPattern().IsMatch(v) ? null : $"{Quote(v)} is not a 12-digit account id"),
            ImportColumn.Text("code", LowerHex64),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["certificates"] =
        [
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("ca_certificate_id", CertificateId, nullable: true),
            ImportColumn.Text("status", OneOf(
                CertificateStatus.Active, CertificateStatus.Inactive, CertificateStatus.Revoked, CertificateStatus.PendingTransfer, CertificateStatus.RegisterInactive, CertificateStatus.PendingActivation)),
            ImportColumn.Text("pem", v => Bounded(v, MaxPem)),
            ImportColumn.Text("certificate_mode", OneOf(CaCertificateMode.Default, CaCertificateMode.SniOnly)),
            ImportColumn.Integer("not_before", Instant),
            ImportColumn.Integer("not_after", Instant),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
            ImportColumn.Integer("customer_version", Positive),
            ImportColumn.Text("generation_id", Uuid),
            ImportColumn.Text("serial_number", SerialNumber, nullable: true),
        ],
        ["certificate_tombstones"] =
        [
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("ca_certificate_id", CertificateId),
            ImportColumn.Text("serial_number", SerialNumber),
            ImportColumn.Text("status", OneOf(
                CertificateStatus.Active, CertificateStatus.Inactive, CertificateStatus.Revoked, CertificateStatus.PendingTransfer, CertificateStatus.RegisterInactive, CertificateStatus.PendingActivation)),
            ImportColumn.Integer("revoked_at", Instant),
            ImportColumn.Integer("not_after", Instant),
        ],
        ["crl_numbers"] =
        [
            ImportColumn.Text("ca_certificate_id", CertificateId),
            ImportColumn.Integer("crl_number", Positive),
        ],
        ["thing_principals"] =
        [
            ImportColumn.Text("thing_name", RegistryName),
            ImportColumn.Text("principal_kind", OneOf(PolicyTarget.CertificateKind)),
            ImportColumn.Text("principal_id", CertificateId),
            ImportColumn.Text("principal_type", OneOf(ThingPrincipalType.Exclusive, ThingPrincipalType.NonExclusive)),
            ImportColumn.Integer("attached_at", Instant),
        ],
        ["policies"] =
        [
            ImportColumn.Text("name", PolicyName),
            ImportColumn.Integer("default_version_id", Positive),
            ImportColumn.Integer("next_version_id", Positive),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
            ImportColumn.Text("generation_id", Uuid),
        ],
        ["policy_versions"] =
        [
            ImportColumn.Text("policy_name", PolicyName),
            ImportColumn.Integer("version_id", Positive),
            ImportColumn.Text("document", PolicyDocument),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["policy_targets"] =
        [
            ImportColumn.Text("policy_name", PolicyName),
            ImportColumn.Text("target_kind", OneOf(PolicyTarget.CertificateKind, PolicyTarget.ThingGroupKind)),
            ImportColumn.Text("target_id", v => Bounded(v, NameRules.MaxNameLength)),
            ImportColumn.Integer("attached_at", Instant),
        ],
        ["device_signatures"] =
        [
            ImportColumn.Text("signature_hash", LowerHex64),
            ImportColumn.Integer("expires_at", Instant),
        ],
        ["device_registrations"] =
        [
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("serial_number", RegistryName),
            ImportColumn.Integer("registered_at", Instant),
            ImportColumn.Integer("first_connected_at", Instant, nullable: true),
        ],
        ["certificate_renewals"] =
        [
            ImportColumn.Text("old_certificate_id", CertificateId),
            ImportColumn.Text("new_certificate_id", CertificateId),
            ImportColumn.Integer("renewed_at", Instant),
            ImportColumn.Integer("deactivate_at", Instant),
        ],
        ["device_attempts"] =
        [
            // The audit log keeps what a device sent, valid or not (bounded), so only its form is fixed.
            ImportColumn.Text("attempt_id", Uuid),
            ImportColumn.Integer("attempted_at", Instant),
            ImportColumn.Text("serial_number", v => Bounded(v, 1024), nullable: true),
            ImportColumn.Text("source_address", v => Bounded(v, 1024)),
            ImportColumn.Text("outcome", v => OutcomePattern().IsMatch(v) ? null : $"{Quote(v)} is not an outcome word (such as {DeviceAttemptOutcome.Registered})"),
            ImportColumn.Text("reason", v => Bounded(v, MaxFreeText), nullable: true),
            ImportColumn.Text("certificate_id", CertificateId, nullable: true),
            ImportColumn.Integer("authenticated", Flag),
        ],
        ["provisioning_templates"] =
        [
            ImportColumn.Text("name", TemplateName),
            ImportColumn.Text("description", v => Bounded(v, MaxTemplateDescription), nullable: true),
            ImportColumn.Integer("enabled", Flag),
            ImportColumn.Text("template_type", OneOf(ProvisioningTemplateType.FleetProvisioning, ProvisioningTemplateType.Jitp)),
            ImportColumn.Text("provisioning_role_arn", RoleArn),
            // Never quoted: a hook URL may carry a key (user info, a query parameter).
            ImportColumn.Text("hook_target_arn", v => ProvisioningTemplateService.IsHookTarget(v) ? null : "is neither a Lambda function ARN nor an http(s) URL", nullable: true, secret: true),
            ImportColumn.Text("hook_payload_version", v => Bounded(v, 32), nullable: true),
            ImportColumn.Integer("default_version_id", Positive),
            ImportColumn.Integer("next_version_id", Positive),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
        ],
        ["provisioning_template_versions"] =
        [
            ImportColumn.Text("template_name", TemplateName),
            ImportColumn.Integer("version_id", Positive),
            ImportColumn.Text("body", TemplateBody),
            ImportColumn.Integer("created_at", Instant),
        ],
        ["enrollment_groups"] =
        [
            ImportColumn.Text("name", RegistryName),
            ImportColumn.Text("template_name", TemplateName),
            ImportColumn.Text("serial_number_pattern", SerialNumberPattern, nullable: true),
            ImportColumn.Integer("allow_reprovisioning", Flag),
            ImportColumn.Integer("enabled", Flag),
            ImportColumn.Text("parameters", EnrollmentParameters),
            ImportColumn.Text("group_key", SecretBase64, secret: true),
            ImportColumn.Text("group_key_kek_salt", KekSalt, nullable: true),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
            ImportColumn.Text("region", Region, nullable: true),
        ],
        ["enrollments"] =
        [
            ImportColumn.Text("serial_number", RegistryName),
            ImportColumn.Text("template_name", TemplateName),
            ImportColumn.Integer("allow_reprovisioning", Flag),
            ImportColumn.Integer("enabled", Flag),
            ImportColumn.Text("parameters", EnrollmentParameters),
            ImportColumn.Text("device_secret", SecretBase64, secret: true),
            ImportColumn.Text("device_secret_kek_salt", KekSalt, nullable: true),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("last_modified_at", Instant),
            ImportColumn.Text("region", Region, nullable: true),
        ],
        ["fleet_ownership_tokens"] =
        [
            ImportColumn.Text("token_hash", LowerHex64),
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("claim_certificate_id", CertificateId),
            ImportColumn.Text("client_id", v => Bounded(v, 1024)),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("expires_at", Instant),
        ],
        ["provisioning_claims"] =
        [
            ImportColumn.Text("certificate_id", CertificateId),
            ImportColumn.Text("template_name", TemplateName),
            ImportColumn.Integer("created_at", Instant),
            ImportColumn.Integer("expires_at", Instant),
        ],
        ["ca_material"] =
        [
            ImportColumn.Integer("id", v => v == 1 ? null : "must be 1 (there is one CA)"),
            ImportColumn.Text("root_certificate_pem", v => Bounded(v, MaxPem)),
            ImportColumn.Text("root_key_pem", v => v.Length <= MaxPem ? null : "is too long", secret: true),
            ImportColumn.Text("issuing_certificate_pem", v => Bounded(v, MaxPem)),
            ImportColumn.Text("issuing_key_pem", v => v.Length <= MaxPem ? null : "is too long", secret: true),
            ImportColumn.Integer("keys_encrypted", Flag),
            ImportColumn.Integer("created_at", Instant),
        ],
    };

    /// <summary>A value for a problem: quoted, shortened and on one line (control characters escaped).</summary>
    public static string Quote(string value)
    {
        var shown = value.Length <= 64 ? value : value[..64] + "…";
        var text = new StringBuilder(shown.Length + 2).Append('\'');
        foreach (var c in shown)
        {
            if (char.IsControl(c))
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return text.Append('\'').ToString();
    }

    public static string? Instant(long milliseconds) =>
        milliseconds is >= -62_135_596_800_000 and <= 253_402_300_799_999 ? null : string.Create(CultureInfo.InvariantCulture, $"{milliseconds} is not an instant (Unix milliseconds)");

    private static string? Positive(long value) => value >= 1 ? null : string.Create(CultureInfo.InvariantCulture, $"{value} is not positive");

    private static string? Region(string value) => NameRules.IsRegion(value) ? null : $"{Quote(value)} is not a region name";

    private static string? NonNegative(long value) => value >= 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{value} is negative");

    private static string? IdentityPolicyDocument(string value)
    {
        try
        {
            IdentityPolicies.Parse(value);
            return null;
        }
        catch (ServiceException exception)
        {
            return exception.Message;
        }
    }

    private static string? Flag(long value) => value is 0 or 1 ? null : string.Create(CultureInfo.InvariantCulture, $"{value} is neither 0 nor 1");

    private static Func<string, string?> OneOf(params string[] allowed) =>
        value => allowed.Contains(value, StringComparer.Ordinal) ? null : $"{Quote(value)} is not one of {string.Join(", ", allowed)}";

    private static string? Bounded(string value, int max) =>
        value.Length <= max ? null : string.Create(CultureInfo.InvariantCulture, $"is {value.Length} characters long; at most {max} are allowed");

    private static string? RegistryName(string value) =>
        NameRules.IsRegistryName(value) ? null : $"{Quote(value)} is not a name (1 to {NameRules.MaxNameLength} characters of a-z, A-Z, 0-9, ':', '_' and '-')";

    private static string? PolicyName(string value) =>
        NameRules.IsPolicyName(value) ? null : $"{Quote(value)} is not a policy name ([a-zA-Z0-9_+=,.@-]+, up to {NameRules.MaxNameLength} characters)";

    private static string? TemplateName(string value) =>
        TemplateNamePattern().IsMatch(value) ? null : $"{Quote(value)} is not a template name ([0-9A-Za-z_-], 1 to 36 characters)";

    private static string? CertificateId(string value) => LowerHex64Pattern().IsMatch(value) ? null : $"{Quote(value)} is not a certificate id (64 lowercase hex digits)";

    private static string? SerialNumber(string value) => SerialNumberPattern().IsMatch(value) ? null : $"{Quote(value)} is not a serial number (2 to 128 lowercase hex digits, whole octets)";

    private static string? LowerHex64(string value) => LowerHex64Pattern().IsMatch(value) ? null : $"{Quote(value)} is not 64 lowercase hex digits";

    private static string? Uuid(string value) => Guid.TryParseExact(value, "D", out _) ? null : $"{Quote(value)} is not a UUID";

    private static string? RoleArn(string value) => ProvisioningTemplateService.IsRoleArn(value) ? null : $"{Quote(value)} is not an IAM role ARN";

    private static string? AccessKeyId(string value) =>
        value.Length is >= 16 and <= 128 && value.All(char.IsAsciiLetterOrDigit) ? null : $"{Quote(value)} is not an access key id (16 to 128 ASCII letters and digits)";

    // Never quoted: it is the secret.
    private static string? SecretAccessKey(string value) =>
        value.Length is >= 16 and <= 1024 && !value.Any(char.IsControl) ? null : "is not a secret access key (16 to 1024 characters, no control characters)";

    private static string? AttributeValue(string value) =>
        NameRules.IsAttributeValue(value) ? null : $"{Quote(value)} is not an attribute value ([a-zA-Z0-9_.,@/:#=\\[\\]-]*, up to {NameRules.MaxAttributeValueLength} characters)";

    private static string? TagKey(string value) =>
        value.Length is 0 or > 128 ? "is not a tag key of 1 to 128 characters"
        : value.StartsWith("aws:", StringComparison.OrdinalIgnoreCase) ? $"{Quote(value)} starts with the reserved 'aws:'"
        : null;

    private static string? GroupPath(string value)
    {
        var names = value.Split('/');
        if (names.Length > NameRules.MaxGroupDepth)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Quote(value)} is {names.Length} groups deep; at most {NameRules.MaxGroupDepth} are allowed");
        }

        return names.All(NameRules.IsRegistryName) ? null : $"{Quote(value)} is not a path of group names joined by '/'";
    }

    private static string? JsonObject(string value) => ParseJson(value, JsonValueKind.Object, out _);

    private static string? JsonArray(string value) => ParseJson(value, JsonValueKind.Array, out _);

    /// <summary>A JSON object of attribute names to attribute values, as the registry keeps them.</summary>
    private static string? AttributeMap(string value)
    {
        if (ParseJson(value, JsonValueKind.Object, out var root) is { } problem)
        {
            return problem;
        }

        var count = 0;
        foreach (var member in root.EnumerateObject())
        {
            count++;
            if (!NameRules.IsAttributeName(member.Name))
            {
                return $"holds {Quote(member.Name)}, which is not an attribute name";
            }

            if (member.Value.ValueKind != JsonValueKind.String || !NameRules.IsAttributeValue(member.Value.GetString()))
            {
                return $"holds a value for {Quote(member.Name)} that is not an attribute value";
            }
        }

        return count <= NameRules.MaxAttributesWithType ? null : string.Create(CultureInfo.InvariantCulture, $"holds {count} attributes; at most {NameRules.MaxAttributesWithType} are allowed");
    }

    private static string? SearchableAttributes(string value)
    {
        if (ParseJson(value, JsonValueKind.Array, out var root) is { } problem)
        {
            return problem;
        }

        if (root.GetArrayLength() > NameRules.MaxSearchableAttributes)
        {
            return string.Create(CultureInfo.InvariantCulture, $"lists more than {NameRules.MaxSearchableAttributes} attributes");
        }

        return root.EnumerateArray().All(a => a.ValueKind == JsonValueKind.String && NameRules.IsAttributeName(a.GetString())) ? null : "is not a list of attribute names";
    }

    private static string? EnrollmentParameters(string value)
    {
        if (ParseJson(value, JsonValueKind.Object, out var root) is { } problem)
        {
            return problem;
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            if (member.Value.ValueKind != JsonValueKind.String)
            {
                return $"holds a parameter {Quote(member.Name)} whose value is not a string";
            }

            parameters[member.Name] = member.Value.GetString()!;
        }

        var errors = new List<string>();
        EnrollmentRules.CheckParameters(parameters, errors);
        return errors.Count == 0 ? null : errors[0];
    }

    private static string? SerialNumberPattern(string value)
    {
        var errors = new List<string>();
        EnrollmentRules.CheckSerialNumberPattern(value, errors);
        return errors.Count == 0 ? null : $"{Quote(value)} is not a usable serial number pattern";
    }

    private static string? PolicyDocument(string value)
    {
        if (value.Length > MaxPolicyDocument)
        {
            return Bounded(value, MaxPolicyDocument);
        }

        try
        {
            // The quota (2048 significant characters by default) may have been raised where the
            // fleet was exported; the import checks what the evaluator needs, not the quota.
            _ = PolicyDocumentParser.Parse(value, MaxPolicyDocument);
            return null;
        }
        catch (PolicyDocumentException exception)
        {
            return "is not a policy document: " + exception.Message;
        }
    }

    private static string? TemplateBody(string value)
    {
        var errors = TemplateEngine.Validate(value);
        return errors.Count == 0 ? null : $"is not a valid provisioning template: {errors[0]}";
    }

    // Base64 text of a key or secret, in the clear or sealed; its length is checked with its salt (FleetImportChecker).
    private static string? SecretBase64(string value) =>
        value.Length <= 1024 && Convert.TryFromBase64String(value, new byte[value.Length], out _) ? null : "is not base64";

    private static string? KekSalt(string value)
    {
        var bytes = new byte[32];
        return Convert.TryFromBase64String(value, bytes, out var written) && written == 16 ? null : "is not a 16-byte salt in base64";
    }

    private static string? ParseJson(string value, JsonValueKind kind, out JsonElement root)
    {
        root = default;
        var bytes = Encoding.UTF8.GetBytes(value);
        if (StrictJson.FindProblem(bytes) is { } problem)
        {
            return "is not strict JSON: " + problem;
        }

        using var document = JsonDocument.Parse(bytes);
        if (document.RootElement.ValueKind != kind)
        {
            return kind == JsonValueKind.Object ? "is not a JSON object" : "is not a JSON array";
        }

        root = document.RootElement.Clone();
        return null;
    }
}

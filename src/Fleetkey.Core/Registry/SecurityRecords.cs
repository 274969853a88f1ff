namespace Fleetkey.Core.Registry;

/// <summary>Certificate statuses as AWS names them.</summary>
public static class CertificateStatus
{
    public const string Active = "ACTIVE";
    public const string Inactive = "INACTIVE";
    public const string Revoked = "REVOKED";
    public const string PendingTransfer = "PENDING_TRANSFER";
    public const string RegisterInactive = "REGISTER_INACTIVE";
    public const string PendingActivation = "PENDING_ACTIVATION";
}

/// <summary>
/// A device certificate. <see cref="CaCertificateId"/> is null for certificates registered without a CA.
/// <see cref="SerialNumber"/> is lowercase hex of the DER INTEGER's content octets; null only for rows
/// stored before schema 13 that the server has not filled in yet.
/// </summary>
public sealed record Certificate(
    string CertificateId,
    string? CaCertificateId,
    string Status,
    string Pem,
    string Mode,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt,
    long CustomerVersion,
    string GenerationId,
    string? SerialNumber = null);

/// <summary>
/// A CA certificate known to Fleetkey; <see cref="Managed"/> marks Fleetkey's own issuing CA.
/// <see cref="Mode"/> is DEFAULT or SNI_ONLY; <see cref="Registration"/> is the just-in-time
/// provisioning config (null: JITR only, or nothing when auto-registration is disabled).
/// </summary>
public sealed record CaCertificate(
    string CertificateId,
    string Pem,
    string Subject,
    string Status,
    string AutoRegistrationStatus,
    bool Managed,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt,
    long CustomerVersion,
    string GenerationId,
    string Mode = CaCertificateMode.Default,
    CaRegistrationConfig? Registration = null);

/// <summary>
/// The template applied to a CA's devices at their first connection: a body (with the role AWS would
/// assume, kept for describe) or the name of a JITP provisioning template.
/// </summary>
public sealed record CaRegistrationConfig(string? TemplateBody, string? TemplateName, string? RoleArn);

public static class CaCertificateMode
{
    public const string Default = "DEFAULT";
    public const string SniOnly = "SNI_ONLY";
}

public static class AutoRegistrationStatus
{
    public const string Enable = "ENABLE";
    public const string Disable = "DISABLE";
}

/// <summary>A principal attached to a thing; kind is "cert" for certificates.</summary>
public sealed record ThingPrincipal(string ThingName, string PrincipalKind, string PrincipalId, string PrincipalType);

public static class ThingPrincipalType
{
    public const string Exclusive = "EXCLUSIVE_THING";
    public const string NonExclusive = "NON_EXCLUSIVE_THING";
}

public sealed record Policy(
    string Name,
    long DefaultVersionId,
    long NextVersionId,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt,
    string GenerationId);

public sealed record PolicyVersion(string PolicyName, long VersionId, string Document, DateTimeOffset CreatedAt);

/// <summary>What a policy is attached to: ("cert", certificate id) or ("thinggroup", group name).</summary>
public sealed record PolicyTarget(string Kind, string Id)
{
    public const string CertificateKind = "cert";
    public const string ThingGroupKind = "thinggroup";
}

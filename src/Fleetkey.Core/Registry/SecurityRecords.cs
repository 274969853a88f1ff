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

/// <summary>A device certificate. <see cref="CaCertificateId"/> is null for certificates registered without a CA.</summary>
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
    string GenerationId);

/// <summary>A CA certificate known to Fleetkey; <see cref="Managed"/> marks Fleetkey's own issuing CA.</summary>
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
    string GenerationId);

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

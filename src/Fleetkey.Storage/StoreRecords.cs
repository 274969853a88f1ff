namespace Fleetkey.Storage;

// The rows the services keep in the store that are not registry resources (those are the records of
// Fleetkey.Core.Registry): provisioning-by-claim state, the device endpoint's state, pooled keys, the CA.

/// <summary>
/// A certificateOwnershipToken as stored: the SHA-256 of the token (never the token), the certificate it
/// owns, and the claim connection it was given to (its certificate and client id).
/// </summary>
public sealed record OwnershipToken(string TokenHash, string CertificateId, string ClaimCertificateId, string ClientId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>A temporary claim certificate of CreateProvisioningClaim and the template it provisions with.</summary>
public sealed record ProvisioningClaim(string CertificateId, string TemplateName, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>
/// One request to the device endpoint, as the audit log keeps it (never a signature or a secret).
/// <see cref="SerialNumber"/> is what the request claimed; <see cref="Authenticated"/> says whether its
/// signature verified for that serial number (only those attempts count against the serial's rate).
/// </summary>
public sealed record DeviceAttempt(
    Guid AttemptId,
    DateTimeOffset AttemptedAt,
    string? SerialNumber,
    string SourceAddress,
    string Outcome,
    string? Reason,
    string? CertificateId,
    bool Authenticated = false);

/// <summary>A certificate the device endpoint issued to a serial number, and when it first connected (null: never).</summary>
public sealed record DeviceRegistration(string CertificateId, string SerialNumber, DateTimeOffset RegisteredAt, DateTimeOffset? FirstConnectedAt);

/// <summary>A certificate renewed over EST: the old one is retired once the new one connects, or at <see cref="DeactivateAt"/>.</summary>
public sealed record CertificateRenewal(string OldCertificateId, string NewCertificateId, DateTimeOffset RenewedAt, DateTimeOffset DeactivateAt);

/// <summary>How many attempts fall in a rate window, and when the oldest of them was made.</summary>
public sealed record AttemptWindow(int Count, DateTimeOffset? Oldest);

/// <summary>
/// A pre-generated device private key as stored: PKCS#8 DER in <see cref="KeyData"/>, sealed (not
/// plaintext) when <see cref="KekSalt"/> is set. The store never looks inside.
/// </summary>
public sealed record StoredPooledKey(string Algorithm, byte[] KeyData, byte[]? KekSalt);

/// <summary>The CA material row: PEM certificates and keys, as the PKI stores them.</summary>
public sealed record StoredCaMaterial(string RootCertificatePem, string RootKeyPem, string IssuingCertificatePem, string IssuingKeyPem, bool KeysEncrypted);

using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>One entry of a CRL: a serial number (INTEGER content octets), when it was revoked and why (null: unspecified, no reason code).</summary>
public sealed record RevokedCertificate(ReadOnlyMemory<byte> SerialNumber, DateTimeOffset RevokedAt, X509RevocationReason? Reason);

/// <summary>What OCSP says of a certificate (RFC 6960 CertStatus).</summary>
public enum OcspCertificateState
{
    Good,
    Revoked,
    Unknown,
}

/// <summary>
/// A certificate's status for an OCSP answer: <see cref="RevokedAt"/> and <see cref="Reason"/> only when
/// revoked (a null reason is unspecified: the response carries none).
/// </summary>
public readonly record struct OcspCertificateStatus(OcspCertificateState State, DateTimeOffset RevokedAt = default, X509RevocationReason? Reason = null)
{
    public static OcspCertificateStatus Good => new(OcspCertificateState.Good);

    public static OcspCertificateStatus Unknown => new(OcspCertificateState.Unknown);

    public static OcspCertificateStatus Revoked(DateTimeOffset at, X509RevocationReason? reason) => new(OcspCertificateState.Revoked, at, reason);
}

/// <summary>OCSPResponseStatus (RFC 6960 4.2.1).</summary>
public enum OcspResponseStatus
{
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

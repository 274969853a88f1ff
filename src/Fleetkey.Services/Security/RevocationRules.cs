using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// What a certificate's status says to relying parties, the one rule the CRL and OCSP share:
/// <list type="bullet">
/// <item>ACTIVE: good (not on the CRL).</item>
/// <item>REVOKED: revoked for good, since its last change (a revoked certificate changes no more), with
/// no reason code: AWS's REVOKED says nothing of why, and RFC 5280 5.3.1 asks to leave the reason out
/// rather than say "unspecified".</item>
/// <item>Any other status (INACTIVE, PENDING_ACTIVATION, PENDING_TRANSFER, REGISTER_INACTIVE): revoked
/// with reason certificateHold since its last change: not usable now, and it may become ACTIVE again,
/// when it leaves the CRL (only a hold may be lifted).</item>
/// <item>A deleted certificate keeps what its status said when it was deleted (an ACTIVE one, such as an
/// expired provisioning claim, is held), until it expires.</item>
/// </list>
/// </summary>
internal static class RevocationRules
{
    public static bool IsRevoked(RevocationRecord record) => record.Deleted || record.Status != CertificateStatus.Active;

    /// <summary>The CRL reason code; null for REVOKED (unspecified, left out).</summary>
    public static X509RevocationReason? Reason(RevocationRecord record) =>
        record.Status == CertificateStatus.Revoked ? null : X509RevocationReason.CertificateHold;

    /// <summary>The OCSP answer for a serial number of a CA Fleetkey signs with: unknown when it issued none.</summary>
    public static OcspCertificateStatus OcspStatus(RevocationRecord? record) => record switch
    {
        null => OcspCertificateStatus.Unknown,
        _ when IsRevoked(record) => OcspCertificateStatus.Revoked(record.ChangedAt, Reason(record)),
        _ => OcspCertificateStatus.Good,
    };

    public static RevokedCertificate CrlEntry(RevocationRecord record) =>
        new(Convert.FromHexString(record.SerialNumber), record.ChangedAt, Reason(record));
}

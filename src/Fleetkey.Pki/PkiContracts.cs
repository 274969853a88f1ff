using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

// The public surface of Fleetkey's PKI. It knows certificates and keys, nothing of things.

/// <summary>Key algorithms Fleetkey generates or accepts.</summary>
public enum KeyAlgorithm
{
    EcP256,
    EcP384,
    Rsa2048,
}

public sealed class PkiOptions
{
    /// <summary>Key algorithm of the root and issuing CAs (default EC P-256).</summary>
    public KeyAlgorithm CaKeyAlgorithm { get; set; } = KeyAlgorithm.EcP256;

    /// <summary>Key algorithm of keys generated for devices (default RSA-2048, as AWS).</summary>
    public KeyAlgorithm DeviceKeyAlgorithm { get; set; } = KeyAlgorithm.Rsa2048;

    /// <summary>Device certificate lifetime; null means until 2049-12-31T23:59:59Z, as AWS.</summary>
    public TimeSpan? DeviceValidity { get; set; }

    /// <summary>When set, CA private keys are stored as encrypted PKCS#8.</summary>
    public string? Passphrase { get; set; }

    /// <summary>Common name prefix of the generated CAs.</summary>
    public string CaName { get; set; } = "Fleetkey";

    /// <summary>
    /// How many device keys the CA keeps generated ahead of demand, in memory, when no persistent
    /// pool is given to it (the server gives it one: see <c>DeviceKeyPool</c>).
    /// </summary>
    public int KeyPoolSize { get; set; } = 16;

    /// <summary>
    /// Where relying parties check revocation: the device listener's public URL. Device certificates then
    /// name its CRL (<c>/crl/ID.crl</c>), OCSP responder (<c>/ocsp</c>) and CA certificate (<c>/ca/ID.cer</c>),
    /// see <see cref="RevocationUrls"/>; null issues them without these extensions.
    /// </summary>
    public Uri? RevocationBaseUri { get; set; }

    /// <summary>Parses "ec-p256", "ec-p384", "rsa-2048".</summary>
    public static KeyAlgorithm ParseAlgorithm(string value) => value.ToLowerInvariant() switch
    {
        "ec-p256" => KeyAlgorithm.EcP256,
        "ec-p384" => KeyAlgorithm.EcP384,
        "rsa-2048" => KeyAlgorithm.Rsa2048,
        _ => throw new ArgumentException($"Unknown key algorithm '{value}'; use ec-p256, ec-p384 or rsa-2048.", nameof(value)),
    };

    /// <summary>The name <see cref="ParseAlgorithm"/> reads: "ec-p256", "ec-p384", "rsa-2048".</summary>
    public static string FormatAlgorithm(KeyAlgorithm algorithm) => algorithm switch
    {
        KeyAlgorithm.EcP256 => "ec-p256",
        KeyAlgorithm.EcP384 => "ec-p384",
        KeyAlgorithm.Rsa2048 => "rsa-2048",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key algorithm."),
    };
}

/// <summary>CA certificates and keys as stored (PEM; keys PKCS#8, encrypted when <see cref="KeysEncrypted"/>).</summary>
public sealed record CaMaterial(string RootCertificatePem, string RootKeyPem, string IssuingCertificatePem, string IssuingKeyPem, bool KeysEncrypted);

/// <summary>Where CA material is kept (files in the data directory now; the database later).</summary>
public interface ICaMaterialStore
{
    Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken);

    Task SaveAsync(CaMaterial material, CancellationToken cancellationToken);
}

/// <summary>
/// A certificate Fleetkey issued. <see cref="PrivateKeyPem"/> is set only when Fleetkey made the key;
/// <see cref="SerialNumber"/> as <see cref="CertificateInspector.SerialNumber(X509Certificate2)"/> writes it.
/// </summary>
public sealed record IssuedCertificate(
    string CertificateId,
    string CertificatePem,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string PublicKeyPem,
    string? PrivateKeyPem,
    string SerialNumber);

/// <summary>A certificate read from PEM, for registration; <see cref="SerialNumber"/> as <see cref="CertificateInspector.SerialNumber(X509Certificate2)"/> writes it.</summary>
public sealed record ParsedCertificate(
    string CertificateId,
    string CertificatePem,
    string Subject,
    string Issuer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool IsCertificateAuthority,
    X509Certificate2 Certificate,
    string SerialNumber);

public enum PkiError
{
    InvalidCsr,
    CsrSignatureInvalid,
    UnsupportedKey,
    InvalidCertificate,
    CaLocked,

    /// <summary>A renewal's CSR carries the key of the certificate it renews (re-keying is required).</summary>
    CsrKeyReused,
}

/// <summary>A PKI failure with a reason fit to show the caller (no key material in it).</summary>
public sealed class PkiException(PkiError error, string message) : Exception(message)
{
    public PkiError Error { get; } = error;
}

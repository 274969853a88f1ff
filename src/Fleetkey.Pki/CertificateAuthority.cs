using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>
/// Fleetkey's CA: a root and an issuing CA under it. Issues device certificates from keys it
/// generates (from a pool kept warm in the background) or from CSRs.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private CertificateAuthority()
    {
    }

    public X509Certificate2 Root => throw new NotImplementedException();

    public X509Certificate2 Issuing => throw new NotImplementedException();

    /// <summary>The issuing CA then the root, PEM: what devices need to verify device and server certificates.</summary>
    public string ChainPem => throw new NotImplementedException();

    /// <summary>Certificate ids (SHA-256 of DER, lowercase hex) of the issuing CA and the root.</summary>
    public string IssuingCertificateId => throw new NotImplementedException();

    public string RootCertificateId => throw new NotImplementedException();

    /// <summary>Loads the CA from the store, or creates and saves it on first start.</summary>
    public static Task<CertificateAuthority> LoadOrCreateAsync(ICaMaterialStore store, PkiOptions options, TimeProvider time, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Generates a device key (of <see cref="PkiOptions.DeviceKeyAlgorithm"/>) and a certificate for it.</summary>
    public Task<IssuedCertificate> IssueWithNewKeyAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Signs a PEM CSR after verifying its signature and key; throws <see cref="PkiException"/>.</summary>
    public IssuedCertificate IssueFromCsr(string csrPem) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}

public static class CertificateInspector
{
    /// <summary>Lowercase hex SHA-256 of the DER encoding: the AWS certificate id.</summary>
    public static string CertificateId(ReadOnlySpan<byte> der) => throw new NotImplementedException();

    /// <summary>Parses one PEM certificate; throws <see cref="PkiException"/> (InvalidCertificate).</summary>
    public static ParsedCertificate Parse(string pem) => throw new NotImplementedException();

    /// <summary>Whether <paramref name="certificate"/>'s signature verifies with <paramref name="issuer"/>'s key and names it as issuer.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer) => throw new NotImplementedException();
}

/// <summary>CA material as files in a directory: root.pem, root.key, issuing.pem, issuing.key (keys mode 0600).</summary>
public sealed class FileCaMaterialStore(string directory) : ICaMaterialStore
{
    public string Directory { get; } = directory;

    public Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    public Task SaveAsync(CaMaterial material, CancellationToken cancellationToken) => throw new NotImplementedException();
}

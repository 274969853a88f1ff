using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>The CA as loaded: certificates and the issuing key (the root key stays in the store).</summary>
internal sealed record CaState(X509Certificate2 Root, X509Certificate2 Issuing, AsymmetricAlgorithm IssuingKey);

/// <summary>Generates a new root and issuing CA, and reads stored ones back.</summary>
internal static class CaMaterialFactory
{
    // ~30 years: longer than any device will be in service, and past AWS's 2049-12-31 device expiry
    // so that the default device validity is not cut short by the issuing CA.
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(30 * 365 + 7);

    public static (CaMaterial Material, CaState State) Create(PkiOptions options, TimeProvider time)
    {
        var notBefore = Certificates.Now(time) - Certificates.Backdate;
        var notAfter = notBefore + CaLifetime;

        using var rootKey = Keys.Generate(options.CaKeyAlgorithm);
        var issuingKey = Keys.Generate(options.CaKeyAlgorithm);
        try
        {
            var rootName = Certificates.Name($"{options.CaName} Root CA");
            var rootRequest = Certificates.NewRequest(rootName, rootKey);
            rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
            rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
            rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, critical: false));
            using var root = rootRequest.Create(rootName, Keys.CreateSignatureGenerator(rootKey), notBefore, notAfter, Certificates.NewSerialNumber());

            var issuingName = Certificates.Name($"{options.CaName} Issuing CA");
            var issuingRequest = Certificates.NewRequest(issuingName, issuingKey);

            // pathLen 0: the issuing CA signs end-entity certificates only.
            issuingRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
            issuingRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
            issuingRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(issuingRequest.PublicKey, critical: false));
            issuingRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            using var issuing = issuingRequest.Create(rootName, Keys.CreateSignatureGenerator(rootKey), notBefore, notAfter, Certificates.NewSerialNumber());

            var material = new CaMaterial(
                root.ExportCertificatePem() + "\n",
                CaKeyPem.Export(rootKey, options.Passphrase) + "\n",
                issuing.ExportCertificatePem() + "\n",
                CaKeyPem.Export(issuingKey, options.Passphrase) + "\n",
                KeysEncrypted: options.Passphrase is not null);

            // Certificates without keys attached: the issuing key is used directly, never through the platform's certificate store.
            var state = new CaState(
                X509CertificateLoader.LoadCertificate(root.RawData),
                X509CertificateLoader.LoadCertificate(issuing.RawData),
                issuingKey);
            return (material, state);
        }
        catch
        {
            issuingKey.Dispose();
            throw;
        }
    }

    public static CaState Load(CaMaterial material, string? passphrase)
    {
        var root = LoadCertificate(material.RootCertificatePem, "root CA");
        var issuing = LoadCertificate(material.IssuingCertificatePem, "issuing CA");
        try
        {
            if (!CertificateInspector.IsIssuedBy(root, root) || !CertificateInspector.IsIssuedBy(issuing, root))
            {
                throw new InvalidOperationException("The stored issuing CA certificate is not signed by the stored root CA certificate.");
            }

            // The root key is not needed to issue; it stays encrypted in the store.
            var issuingKey = CaKeyPem.Import(issuing, material.IssuingKeyPem, passphrase, "issuing CA");
            return new CaState(root, issuing, issuingKey);
        }
        catch
        {
            root.Dispose();
            issuing.Dispose();
            throw;
        }
    }

    /// <summary>The same material with both keys encrypted under <paramref name="passphrase"/>.</summary>
    public static CaMaterial Encrypt(CaMaterial material, CaState state, string passphrase)
    {
        using var rootKey = CaKeyPem.Import(state.Root, material.RootKeyPem, passphrase, "root CA");
        return material with
        {
            RootKeyPem = CaKeyPem.Export(rootKey, passphrase) + "\n",
            IssuingKeyPem = CaKeyPem.Export(state.IssuingKey, passphrase) + "\n",
            KeysEncrypted = true,
        };
    }

    private static X509Certificate2 LoadCertificate(string pem, string role)
    {
        try
        {
            return CertificateInspector.Parse(pem).Certificate;
        }
        catch (PkiException e)
        {
            throw new InvalidOperationException($"The stored {role} certificate cannot be read: {e.Message}", e);
        }
    }
}

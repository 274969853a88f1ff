using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Bench;

/// <summary>
/// The machine's own ceiling for each crypto-bound scenario: the crypto a request needs, and nothing
/// else, in process on every core. Built on System.Security.Cryptography directly (not on
/// Fleetkey.Pki), so the ceiling stays the machine's while the server's code changes; each step
/// mirrors what the server does for one request: the same key types, extensions, serial size,
/// certificate id (SHA-256 of the DER) and PEM encodings.
/// </summary>
internal static class CryptoCeilings
{
    public const string EcKeyAndCertificate = "EC P-256 key + certificate";
    public const string RsaKeyAndCertificate = "RSA-2048 key + certificate";
    public const string CsrAndCertificate = "CSR check + certificate";
    public const string CertificateOnly = "certificate only";

    private static readonly DateTimeOffset AwsNotAfter = new(2049, 12, 31, 23, 59, 59, TimeSpan.Zero);
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>What each ceiling is, for the report.</summary>
    public static string Describe(string name, string caKeyAlgorithm) => name switch
    {
        EcKeyAndCertificate => $"generate an EC P-256 key, issue its certificate (signed by an {caKeyAlgorithm} CA), PEM the key, public key and certificate",
        RsaKeyAndCertificate => $"the same with an RSA-2048 key: in effect the RSA key-generation rate",
        CsrAndCertificate => $"parse an EC P-256 CSR and verify its signature, issue the certificate ({caKeyAlgorithm} CA), PEM it",
        CertificateOnly => $"issue a certificate for an existing public key ({caKeyAlgorithm} CA signature): what a request costs once its key is made (a full key pool)",
        TlsHandshakeCeiling.Name => TlsHandshakeCeiling.Description,
        _ => ClientCeilings.Explain(name),
    };

    /// <summary>Measures every crypto ceiling one after the other, each on all cores for <paramref name="duration"/> (RSA for twice as long).</summary>
    public static async Task<IReadOnlyList<CeilingResult>> MeasureAsync(
        string caKeyAlgorithm, IReadOnlyList<PreparedCsr> csrs, TimeSpan duration, int? serverPid, BenchProgress progress, CancellationToken cancellationToken)
    {
        using var ca = TestCa.Create(caKeyAlgorithm);
        using var fixedKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fixedPublicKey = new PublicKey(fixedKey);
        (string Name, TimeSpan Duration, Action<Issuer, int> Operation)[] ceilings =
        [
            (EcKeyAndCertificate, duration, static (issuer, i) =>
            {
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                issuer.Issue(new PublicKey(key), rsa: false);
                _ = key.ExportECPrivateKeyPem();
                _ = key.ExportSubjectPublicKeyInfoPem();
            }),
            (RsaKeyAndCertificate, duration * 2, static (issuer, i) =>
            {
                using var key = RSA.Create(2048);
                _ = key.ExportRSAPrivateKeyPem(); // generates the key: RSA.Create(2048) only records the size
                issuer.Issue(new PublicKey(key), rsa: true);
                _ = key.ExportSubjectPublicKeyInfoPem();
            }),
            (CsrAndCertificate, duration, (issuer, i) =>
            {
                var request = CertificateRequest.LoadSigningRequest(
                    csrs[i % csrs.Count].Der, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.Default, RSASignaturePadding.Pkcs1);
                issuer.Issue(request.PublicKey, rsa: false);
            }),
            (CertificateOnly, duration, (issuer, i) => issuer.Issue(fixedPublicKey, rsa: false)),
        ];

        var results = new List<CeilingResult>();
        foreach (var (name, length, operation) in ceilings)
        {
            results.Add(await CeilingMeter.MeasureAsync(
                name,
                length,
                serverPid,
                () =>
                {
                    var issuer = ca.CreateIssuer();
                    return (i => operation(issuer, i), issuer);
                },
                progress,
                cancellationToken));
        }

        return results;
    }

    /// <summary>A CA key of the server's kind and its certificate; each thread signs with its own copy of the key, as the server does.</summary>
    private sealed class TestCa : IDisposable
    {
        private readonly AsymmetricAlgorithm _key;
        private readonly X509Certificate2 _certificate;

        private TestCa(AsymmetricAlgorithm key, X509Certificate2 certificate)
        {
            _key = key;
            _certificate = certificate;
        }

        public static TestCa Create(string algorithm)
        {
            AsymmetricAlgorithm key = algorithm switch
            {
                "ec-p256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
                "ec-p384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
                "rsa-2048" => RSA.Create(2048),
                _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown CA key algorithm."),
            };
            var name = new X500DistinguishedName("CN=Fleetkey bench ceiling CA");
            var request = key is RSA rsa
                ? new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                : new CertificateRequest(name, (ECDsa)key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var now = DateTimeOffset.UtcNow;
            return new TestCa(key, request.CreateSelfSigned(now.AddDays(-1), now.AddYears(30)));
        }

        public Issuer CreateIssuer()
        {
            AsymmetricAlgorithm copy = _key switch
            {
                RSA rsa => RSA.Create(rsa.ExportParameters(includePrivateParameters: true)),
                ECDsa ec => ECDsa.Create(ec.ExportParameters(includePrivateParameters: true)),
                _ => throw new InvalidOperationException("Unsupported CA key."),
            };
            return new Issuer(copy, _certificate);
        }

        public void Dispose()
        {
            _key.Dispose();
            _certificate.Dispose();
        }
    }

    /// <summary>Issues device certificates the way the server's CA does, with one thread's copy of the CA key.</summary>
    private sealed class Issuer(AsymmetricAlgorithm key, X509Certificate2 caCertificate) : IDisposable
    {
        private readonly X509SignatureGenerator _generator = key is RSA rsa
            ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
            : X509SignatureGenerator.CreateForECDsa((ECDsa)key);

        private readonly X509AuthorityKeyIdentifierExtension _authorityKeyIdentifier =
            X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caCertificate, includeKeyIdentifier: true, includeIssuerAndSerial: false);

        private readonly X500DistinguishedName _subject = new("CN=AWS IoT Certificate");

        public void Issue(PublicKey publicKey, bool rsa)
        {
            var request = new CertificateRequest(_subject, publicKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(
                rsa ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuthentication], false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(publicKey, false));
            request.CertificateExtensions.Add(_authorityKeyIdentifier);

            var serial = new byte[16];
            RandomNumberGenerator.Fill(serial);
            serial[0] &= 0x7F;
            var now = DateTimeOffset.UtcNow;
            using var certificate = request.Create(caCertificate.SubjectName, _generator, now.AddMinutes(-5), AwsNotAfter, serial);
            _ = Convert.ToHexStringLower(SHA256.HashData(certificate.RawDataMemory.Span));
            _ = certificate.ExportCertificatePem();
            _ = PemEncoding.WriteString("PUBLIC KEY", publicKey.ExportSubjectPublicKeyInfo());
        }

        public void Dispose() => key.Dispose();
    }
}

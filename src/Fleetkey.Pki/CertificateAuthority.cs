using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>
/// Fleetkey's CA: a root and an issuing CA under it. Issues device certificates from keys it
/// generates (from a pool kept warm in the background) or from CSRs.
/// </summary>
/// <remarks>
/// Thread-safe. Fleetkey chooses every extension of what it issues and the caller chooses the subject
/// (<see cref="CertificateSubject"/>): of a CSR, only the public key is copied, and the subject only
/// when the caller says so.
/// </remarks>
public sealed class CertificateAuthority : IDisposable
{
    /// <summary>The expiry AWS IoT gives every certificate it issues.</summary>
    public static readonly DateTimeOffset AwsDeviceNotAfter = new(2049, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>The subject of certificates issued with a Fleetkey-generated key (AWS also uses one fixed subject).</summary>
    public const string DeviceSubject = "CN=Fleetkey Device Certificate";

    /// <summary>The subject of the delegated OCSP responder certificates the issuing CA gives each node.</summary>
    public const string OcspResponderCommonName = "Fleetkey OCSP Responder";

    private static readonly Oid OcspSigning = new("1.3.6.1.5.5.7.3.9", "OCSP Signing");

    // id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): relying parties need not check the responder's own status; its value is NULL.
    private static readonly X509Extension OcspNoCheck = new("1.3.6.1.5.5.7.48.1.5", [0x05, 0x00], critical: false);

    private readonly TimeProvider _time;
    private readonly TimeSpan? _deviceValidity;
    private readonly KeyCopies _issuingKey;
    private readonly X509AuthorityKeyIdentifierExtension _authorityKeyIdentifier;

    // The CRL distribution point and Authority Information Access of device certificates; empty without PkiOptions.RevocationBaseUri.
    private readonly X509Extension[] _revocationExtensions;
    private readonly DeviceKeyPool _keyPool;
    private readonly bool _ownsKeyPool;
    private int _disposed;

    private CertificateAuthority(CaState state, PkiOptions options, TimeProvider time, DeviceKeyPool? keyPool)
    {
        _time = time;
        _deviceValidity = options.DeviceValidity;
        Root = state.Root;
        Issuing = state.Issuing;
        _issuingKey = new KeyCopies(state.IssuingKey);
        _authorityKeyIdentifier = X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Issuing, includeKeyIdentifier: true, includeIssuerAndSerial: false);
        ChainPem = Issuing.ExportCertificatePem() + "\n" + Root.ExportCertificatePem() + "\n";
        IssuingCertificateId = CertificateInspector.CertificateId(Issuing.RawDataMemory.Span);
        RootCertificateId = CertificateInspector.CertificateId(Root.RawDataMemory.Span);
        _revocationExtensions = options.RevocationBaseUri is { } revocation
            ?
            [
                CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([RevocationUrls.Crl(revocation, IssuingCertificateId).AbsoluteUri]),
                new X509AuthorityInformationAccessExtension(
                    ocspUris: [RevocationUrls.Ocsp(revocation).AbsoluteUri],
                    caIssuersUris: [RevocationUrls.CaIssuers(revocation, IssuingCertificateId).AbsoluteUri]),
            ]
            : [];
        if (keyPool is null)
        {
            _keyPool = new DeviceKeyPool(options.DeviceKeyAlgorithm, options.KeyPoolSize);
            _keyPool.Start();
            _ownsKeyPool = true;
        }
        else
        {
            _keyPool = keyPool;
        }
    }

    /// <summary>The root CA certificate (no private key).</summary>
    public X509Certificate2 Root { get; }

    /// <summary>The issuing CA certificate (no private key).</summary>
    public X509Certificate2 Issuing { get; }

    /// <summary>The issuing CA then the root, PEM: what devices need to verify device and server certificates.</summary>
    public string ChainPem { get; }

    /// <summary>Certificate ids (SHA-256 of DER, lowercase hex) of the issuing CA and the root.</summary>
    public string IssuingCertificateId { get; }

    public string RootCertificateId { get; }

    /// <summary>Loads the CA from the store, or creates and saves it on first start.</summary>
    /// <exception cref="PkiException">CaLocked: the stored keys are encrypted and the passphrase is missing or wrong.</exception>
    /// <exception cref="InvalidOperationException">The stored material is inconsistent (a key not matching its certificate, a broken chain).</exception>
    /// <remarks>
    /// With a passphrase configured, keys found stored in the clear are encrypted and saved again.
    /// Decrypting a key costs one PBKDF2 run (600,000 iterations), a fraction of a second.
    /// </remarks>
    public static Task<CertificateAuthority> LoadOrCreateAsync(ICaMaterialStore store, PkiOptions options, TimeProvider time, CancellationToken cancellationToken) =>
        LoadOrCreateAsync(store, options, time, keyPool: null, cancellationToken);

    /// <param name="keyPool">
    /// Where device keys come from (the server's persistent pool, which its owner starts, stops and
    /// disposes); null makes an in-memory pool of <see cref="PkiOptions.KeyPoolSize"/> keys.
    /// </param>
    public static async Task<CertificateAuthority> LoadOrCreateAsync(ICaMaterialStore store, PkiOptions options, TimeProvider time, DeviceKeyPool? keyPool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (keyPool is not null && keyPool.Algorithm != options.DeviceKeyAlgorithm)
        {
            throw new ArgumentException("The key pool holds keys of another algorithm than the device keys.", nameof(keyPool));
        }

        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        Validate(options);

        var material = await store.LoadAsync(cancellationToken);
        CaState state;
        if (material is null)
        {
            (material, state) = CaMaterialFactory.Create(options, time);
            try
            {
                await store.SaveAsync(material, cancellationToken);
            }
            catch
            {
                DisposeState(state);
                throw;
            }
        }
        else
        {
            state = CaMaterialFactory.Load(material, options.Passphrase);
            try
            {
                if (options.Passphrase is { } passphrase && !(CaKeyPem.IsEncrypted(material.RootKeyPem) && CaKeyPem.IsEncrypted(material.IssuingKeyPem)))
                {
                    await store.SaveAsync(CaMaterialFactory.Encrypt(material, state, passphrase), cancellationToken);
                }
            }
            catch
            {
                DisposeState(state);
                throw;
            }
        }

        return new CertificateAuthority(state, options, time, keyPool);
    }

    /// <summary>
    /// What is wrong with stored CA material, in a sentence that names the certificate or key and never
    /// quotes it; null when it is usable: both certificates read, the root is self-signed and signed the
    /// issuing CA, both keys read (decrypted with <paramref name="passphrase"/> when encrypted) and belong
    /// to their certificates, and <see cref="CaMaterial.KeysEncrypted"/> says what the keys' PEM labels say.
    /// </summary>
    /// <remarks>Checking encrypted keys costs two PBKDF2 runs (600,000 iterations each), about half a second.</remarks>
    public static string? FindMaterialProblem(CaMaterial material, string? passphrase)
    {
        ArgumentNullException.ThrowIfNull(material);
        if (material.KeysEncrypted != (CaKeyPem.IsEncrypted(material.RootKeyPem) || CaKeyPem.IsEncrypted(material.IssuingKeyPem)))
        {
            return material.KeysEncrypted
                ? "The CA material says its keys are encrypted, but neither key is an encrypted PEM private key."
                : "The CA material says its keys are in the clear, but a key is an encrypted PEM private key.";
        }

        try
        {
            var state = CaMaterialFactory.Load(material, passphrase);
            try
            {
                using var rootKey = CaKeyPem.Import(state.Root, material.RootKeyPem, passphrase, "root CA");
            }
            finally
            {
                DisposeState(state);
            }

            return null;
        }
        catch (Exception e) when (e is PkiException or InvalidOperationException)
        {
            return e.Message;
        }
    }

    /// <summary>Generates a device key (of <see cref="PkiOptions.DeviceKeyAlgorithm"/>) and a certificate for it.</summary>
    /// <remarks>
    /// The key comes from the background pool when one is ready. <see cref="IssuedCertificate.PrivateKeyPem"/>
    /// is PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"), as AWS returns it; Fleetkey keeps no copy.
    /// </remarks>
    public Task<IssuedCertificate> IssueWithNewKeyAsync(CancellationToken cancellationToken) => IssueWithNewKeyAsync(CertificateSubject.Device, null, cancellationToken);

    /// <summary>As <see cref="IssueWithNewKeyAsync(CancellationToken)"/>, with the subject the caller chose (never <see cref="CertificateSubject.FromRequest"/>: there is no request).</summary>
    public Task<IssuedCertificate> IssueWithNewKeyAsync(CertificateSubject subject, CancellationToken cancellationToken) => IssueWithNewKeyAsync(subject, null, cancellationToken);

    /// <summary>
    /// As <see cref="IssueWithNewKeyAsync(CancellationToken)"/>, valid for <paramref name="validity"/> from
    /// now (a short-lived certificate such as CreateProvisioningClaim's) instead of the device validity.
    /// </summary>
    public Task<IssuedCertificate> IssueWithNewKeyAsync(TimeSpan? validity, CancellationToken cancellationToken) =>
        IssueWithNewKeyAsync(CertificateSubject.Device, validity, cancellationToken);

    private async Task<IssuedCertificate> IssueWithNewKeyAsync(CertificateSubject subject, TimeSpan? validity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var name = subject.For(requested: null);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        using var key = await _keyPool.TakeAsync(cancellationToken);
        var issued = IssueDevice(name, key.PublicKey, validity);
        return issued with { PrivateKeyPem = key.ExportPrivateKeyPem() };
    }

    /// <summary>Signs a PEM CSR after verifying its signature and key; throws <see cref="PkiException"/>.</summary>
    /// <remarks>
    /// Takes the CSR's public key, and its subject only when <paramref name="subject"/> is
    /// <see cref="CertificateSubject.FromRequest"/>; everything else it asks for (requested extensions,
    /// SANs included, and any other attribute) is ignored. Keys: RSA of at least 2048 bits, EC P-256,
    /// P-384 or P-521 (as AWS IoT).
    /// </remarks>
    public IssuedCertificate IssueFromCsr(string csrPem, CertificateSubject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ThrowIfDisposed();
        var (requested, publicKey) = CsrReader.Read(csrPem);
        return IssueDevice(subject.For(requested), publicKey);
    }

    /// <summary>
    /// A renewal (EST <c>simplereenroll</c>): a new certificate for the CSR's key under the subject of
    /// <paramref name="current"/>, the certificate being renewed (the issuer decides; the CSR's subject
    /// and extensions are ignored). The key must be new: a CSR for <paramref name="current"/>'s key is refused.
    /// </summary>
    /// <exception cref="PkiException">The CSR is not valid, or its key is the current certificate's.</exception>
    public IssuedCertificate IssueRenewal(string csrPem, X509Certificate2 current)
    {
        ArgumentNullException.ThrowIfNull(current);
        ThrowIfDisposed();
        var (_, publicKey) = CsrReader.Read(csrPem);
        if (publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(current.PublicKey.ExportSubjectPublicKeyInfo()))
        {
            throw new PkiException(PkiError.CsrKeyReused, "A renewal needs a new key: the CSR's key is the current certificate's.");
        }

        return IssueDevice(current.SubjectName, publicKey);
    }

    /// <summary>
    /// A TLS server certificate (EC P-256 key, serverAuth) for Fleetkey's own listeners, such as the
    /// MQTT broker, so that devices verify the server with <see cref="ChainPem"/>.
    /// </summary>
    /// <returns>The certificate with its private key attached. The key is ephemeral: on Windows, SslStream needs it round-tripped through PKCS#12.</returns>
    public X509Certificate2 IssueServerCertificate(IReadOnlyCollection<string> dnsNames, IReadOnlyCollection<IPAddress> ipAddresses, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        ArgumentNullException.ThrowIfNull(ipAddresses);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        if (dnsNames.Count + ipAddresses.Count == 0)
        {
            throw new ArgumentException("A server certificate needs at least one DNS name or IP address.", nameof(dnsNames));
        }

        ThrowIfDisposed();
        var names = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in dnsNames)
        {
            names.AddDnsName(dnsName);
        }

        foreach (var address in ipAddresses)
        {
            names.AddIpAddress(address);
        }

        var commonName = dnsNames.FirstOrDefault() ?? ipAddresses.First().ToString();
        return IssueWithEphemeralKey(commonName, validity, new X509EnhancedKeyUsageExtension([Certificates.ServerAuthentication], critical: false), names.Build(critical: false));
    }

    /// <summary>
    /// A delegated OCSP responder certificate (RFC 6960 4.2.2.2) for a new EC P-256 key, issued by the
    /// issuing CA: id-kp-OCSPSigning, id-pkix-ocsp-nocheck, valid for <paramref name="validity"/> (never
    /// past the issuing CA). Each node makes its own; the key never leaves the process.
    /// </summary>
    /// <returns>The certificate with its private key attached.</returns>
    public X509Certificate2 IssueOcspResponderCertificate(TimeSpan validity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        ThrowIfDisposed();
        return IssueWithEphemeralKey(OcspResponderCommonName, validity, new X509EnhancedKeyUsageExtension([OcspSigning], critical: false), OcspNoCheck);
    }

    /// <summary>
    /// Signs the issuing CA's CRL (RFC 5280, v2 with CRL number and authority key identifier): the key
    /// never leaves the CA. <paramref name="crlNumber"/> must grow from one CRL to the next; the caller keeps it.
    /// </summary>
    public byte[] SignCrl(IEnumerable<RevokedCertificate> revoked, BigInteger crlNumber, DateTimeOffset thisUpdate, DateTimeOffset nextUpdate)
    {
        ArgumentNullException.ThrowIfNull(revoked);
        ArgumentOutOfRangeException.ThrowIfLessThan(crlNumber, BigInteger.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(nextUpdate, thisUpdate);
        ThrowIfDisposed();
        var builder = new CertificateRevocationListBuilder();
        foreach (var entry in revoked)
        {
            builder.AddEntry(entry.SerialNumber.Span, entry.RevokedAt, entry.Reason);
        }

        return _issuingKey.Use(key => builder.Build(
            Issuing.SubjectName, Keys.CreateSignatureGenerator(key), crlNumber, nextUpdate, HashAlgorithmName.SHA256, _authorityKeyIdentifier, thisUpdate));
    }

    /// <summary>
    /// A secret for one <paramref name="purpose"/>, derived (HKDF-SHA256) from the issuing CA's private key:
    /// the same on every node that loads this CA, after a restart and after export/import, and different
    /// for every purpose, so no purpose learns the key or another purpose's secret.
    /// </summary>
    /// <remarks>It changes with the issuing CA: what it protects (page tokens) must tolerate that.</remarks>
    public byte[] DeriveSecret(string purpose, int length = 32)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var privateScalar = _issuingKey.Use(key => key switch
        {
            RSA rsa => rsa.ExportParameters(includePrivateParameters: true).D!,
            ECDsa ec => ec.ExportParameters(includePrivateParameters: true).D!,
            _ => throw new InvalidOperationException("The issuing CA key is of an unsupported type."),
        });

        try
        {
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, privateScalar, length, salt: [], info: System.Text.Encoding.UTF8.GetBytes("fleetkey/" + purpose));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateScalar);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_ownsKeyPool)
        {
            _keyPool.Dispose();
        }

        _issuingKey.Dispose();
        Root.Dispose();
        Issuing.Dispose();
    }

    private IssuedCertificate IssueDevice(X500DistinguishedName subject, PublicKey publicKey, TimeSpan? validityOverride = null)
    {
        var now = Certificates.Now(_time);
        var notBefore = now - Certificates.Backdate;
        var notAfter = Min((validityOverride ?? _deviceValidity) is { } validity ? now + validity : AwsDeviceNotAfter, Issuing.NotAfter);

        // keyEncipherment only where the key can do it: RSA key transport (TLS 1.2 RSA kex).
        var usage = publicKey.Oid.Value == Certificates.RsaEncryptionOid
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature;
        X509Extension[] extensions =
        [
            new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true),
            new X509KeyUsageExtension(usage, critical: true),
            new X509EnhancedKeyUsageExtension([Certificates.ClientAuthentication], critical: false),
            new X509SubjectKeyIdentifierExtension(publicKey, critical: false),
            _authorityKeyIdentifier,
            .. _revocationExtensions,
        ];

        using var certificate = Sign(subject, publicKey, extensions, notBefore, notAfter);
        var der = certificate.RawDataMemory.Span;
        return new IssuedCertificate(
            CertificateInspector.CertificateId(der),
            certificate.ExportCertificatePem() + "\n",
            notBefore,
            notAfter,
            PemEncoding.WriteString("PUBLIC KEY", publicKey.ExportSubjectPublicKeyInfo()) + "\n",
            PrivateKeyPem: null,
            CertificateInspector.SerialNumber(certificate));
    }

    /// <summary>
    /// A certificate for Fleetkey's own use (a TLS server, the OCSP responder): a new EC P-256 key, not a
    /// CA, digitalSignature only, with <paramref name="purpose"/> (its extended key usage) and <paramref name="more"/>.
    /// </summary>
    private X509Certificate2 IssueWithEphemeralKey(string commonName, TimeSpan validity, X509EnhancedKeyUsageExtension purpose, params X509Extension[] more)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = new PublicKey(key);
        var now = Certificates.Now(_time);
        var notBefore = now - Certificates.Backdate;
        var notAfter = Min(now + validity, Issuing.NotAfter);
        X509Extension[] extensions =
        [
            new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true),
            new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true),
            purpose,
            .. more,
            new X509SubjectKeyIdentifierExtension(publicKey, critical: false),
            _authorityKeyIdentifier,
        ];

        using var certificate = Sign(Certificates.Name(commonName), publicKey, extensions, notBefore, notAfter);
        return certificate.CopyWithPrivateKey(key);
    }

    private X509Certificate2 Sign(X500DistinguishedName subject, PublicKey publicKey, X509Extension[] extensions, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        // The request's hash names the signature algorithm (SHA-256); the generator decides RSA or ECDSA.
        var request = new CertificateRequest(subject, publicKey, HashAlgorithmName.SHA256);
        foreach (var extension in extensions)
        {
            request.CertificateExtensions.Add(extension);
        }

        return _issuingKey.Use(key => request.Create(Issuing.SubjectName, Keys.CreateSignatureGenerator(key), notBefore, notAfter, Certificates.NewSerialNumber()));
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private static DateTimeOffset Min(DateTimeOffset value, DateTime issuerNotAfter)
    {
        var cap = CertificateInspector.ToUtc(issuerNotAfter);
        return value < cap ? value : cap;
    }

    private static void Validate(PkiOptions options)
    {
        if (!Enum.IsDefined(options.CaKeyAlgorithm) || !Enum.IsDefined(options.DeviceKeyAlgorithm))
        {
            throw new ArgumentException("Unknown key algorithm in the PKI options.", nameof(options));
        }

        if (options.DeviceValidity is { } validity && validity <= TimeSpan.Zero)
        {
            throw new ArgumentException("The device certificate validity must be positive.", nameof(options));
        }

        if (options.KeyPoolSize < 0)
        {
            throw new ArgumentException("The key pool size cannot be negative.", nameof(options));
        }

        if (string.IsNullOrWhiteSpace(options.CaName))
        {
            throw new ArgumentException("The CA name cannot be empty.", nameof(options));
        }

        if (options.Passphrase is { Length: 0 })
        {
            throw new ArgumentException("The CA passphrase cannot be empty; leave it unset to store keys unencrypted.", nameof(options));
        }
    }

    private static void DisposeState(CaState state)
    {
        state.IssuingKey.Dispose();
        state.Root.Dispose();
        state.Issuing.Dispose();
    }
}

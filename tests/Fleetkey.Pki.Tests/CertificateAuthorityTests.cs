using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed partial class CertificateAuthorityTests
{
    private const string Passphrase = "correct horse battery staple";

    [Theory]
    [InlineData(KeyAlgorithm.EcP256, "1.2.840.10045.2.1", 256)]
    [InlineData(KeyAlgorithm.EcP384, "1.2.840.10045.2.1", 384)]
    [InlineData(KeyAlgorithm.Rsa2048, "1.2.840.113549.1.1.1", 2048)]
    public async Task LoadOrCreateAsync_EmptyStore_CreatesRootAndIssuingCa(KeyAlgorithm algorithm, string keyOid, int keySize)
    {
        var time = TestCa.Clock();
        var store = new InMemoryCaMaterialStore();
        using var ca = await TestCa.CreateAsync(caKey: algorithm, time: time, store: store, configure: o => o.CaName = "Acme");

        Assert.Equal(1, store.Saves);
        Assert.Equal("CN=Acme Root CA, O=Fleetkey", ca.Root.Subject);
        Assert.Equal("CN=Acme Root CA, O=Fleetkey", ca.Root.Issuer);
        Assert.Equal("CN=Acme Issuing CA, O=Fleetkey", ca.Issuing.Subject);
        Assert.Equal(ca.Root.Subject, ca.Issuing.Issuer);
        foreach (var certificate in new[] { ca.Root, ca.Issuing })
        {
            Assert.Equal(keyOid, certificate.PublicKey.Oid.Value);
            Assert.Equal(keySize, KeySize(certificate));
            Assert.Equal(TestCa.Start.AddMinutes(-5), CertificateInspector.ToUtc(certificate.NotBefore));
            Assert.InRange(CertificateInspector.ToUtc(certificate.NotAfter), TestCa.Start.AddYears(30).AddDays(-1), TestCa.Start.AddYears(30).AddDays(2));
            var usage = Extension<X509KeyUsageExtension>(certificate);
            Assert.True(usage.Critical);
            Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, usage.KeyUsages);
        }

        var rootConstraints = Extension<X509BasicConstraintsExtension>(ca.Root);
        Assert.True(rootConstraints.Critical);
        Assert.True(rootConstraints.CertificateAuthority);
        Assert.False(rootConstraints.HasPathLengthConstraint);
        var issuingConstraints = Extension<X509BasicConstraintsExtension>(ca.Issuing);
        Assert.True(issuingConstraints.Critical);
        Assert.True(issuingConstraints.CertificateAuthority);
        Assert.True(issuingConstraints.HasPathLengthConstraint);
        Assert.Equal(0, issuingConstraints.PathLengthConstraint);

        var rootKeyId = Extension<X509SubjectKeyIdentifierExtension>(ca.Root).SubjectKeyIdentifierBytes;
        Assert.Equal(rootKeyId.ToArray(), Extension<X509AuthorityKeyIdentifierExtension>(ca.Issuing).KeyIdentifier!.Value.ToArray());
        Assert.False(Extension<X509SubjectKeyIdentifierExtension>(ca.Issuing).SubjectKeyIdentifierBytes.Span.SequenceEqual(rootKeyId.Span));
        Assert.True(CertificateInspector.IsIssuedBy(ca.Root, ca.Root));
        Assert.True(CertificateInspector.IsIssuedBy(ca.Issuing, ca.Root));
        Assert.Equal(CertificateInspector.CertificateId(ca.Root.RawData), ca.RootCertificateId);
        Assert.Equal(CertificateInspector.CertificateId(ca.Issuing.RawData), ca.IssuingCertificateId);
    }

    [Fact]
    public async Task LoadOrCreateAsync_CreatedCa_PassesOpenSslCaChecks()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        await directory.WriteAsync("root.pem", ca.Root.ExportCertificatePem());
        await directory.WriteAsync("issuing.pem", ca.Issuing.ExportCertificatePem());

        // -x509_strict checks the RFC 5280 profile (AKI/SKI, critical basicConstraints) that openssl 3 enforces on CAs.
        var output = await OpenSsl.RunAsync(directory.Path, "verify", "-x509_strict", "-CAfile", "root.pem", "issuing.pem");

        Assert.Equal("issuing.pem: OK", output.Trim());
    }

    [Fact]
    public async Task ChainPem_CreatedCa_IsIssuingThenRoot()
    {
        using var ca = await TestCa.CreateAsync();

        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(ca.ChainPem);

        Assert.Equal(2, certificates.Count);
        Assert.Equal(ca.Issuing.RawData, certificates[0].RawData);
        Assert.Equal(ca.Root.RawData, certificates[1].RawData);
    }

    [Fact]
    public async Task LoadOrCreateAsync_StoredMaterial_LoadsSameCa()
    {
        var store = new InMemoryCaMaterialStore();
        string rootId;
        string issuingId;
        using (var created = await TestCa.CreateAsync(store: store))
        {
            rootId = created.RootCertificateId;
            issuingId = created.IssuingCertificateId;
        }

        using var loaded = await TestCa.CreateAsync(store: store);
        var issued = await loaded.IssueWithNewKeyAsync(CancellationToken.None);

        Assert.Equal(1, store.Saves);
        Assert.Equal(rootId, loaded.RootCertificateId);
        Assert.Equal(issuingId, loaded.IssuingCertificateId);
        Assert.True(CertificateInspector.IsIssuedBy(CertificateInspector.Parse(issued.CertificatePem).Certificate, loaded.Issuing));
    }

    [Fact]
    public async Task LoadOrCreateAsync_Passphrase_StoresOnlyEncryptedKeys()
    {
        var store = new InMemoryCaMaterialStore();
        using var ca = await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = Passphrase);

        var material = store.Material!;
        Assert.True(material.KeysEncrypted);
        foreach (var key in new[] { material.RootKeyPem, material.IssuingKeyPem })
        {
            Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", key, StringComparison.Ordinal);
            Assert.DoesNotContain("-----BEGIN PRIVATE KEY-----", key, StringComparison.Ordinal);
            Assert.DoesNotContain("-----BEGIN EC PRIVATE KEY-----", key, StringComparison.Ordinal);
        }

        // The encrypted PKCS#8 is standard: openssl reads it with the passphrase and refuses it without.
        using var directory = new TempDirectory();
        await directory.WriteAsync("issuing.key", material.IssuingKeyPem);
        await directory.WriteAsync("issuing.pem", material.IssuingCertificatePem);
        var fromKey = await OpenSsl.RunAsync(directory.Path, "pkey", "-in", "issuing.key", "-passin", "pass:" + Passphrase, "-pubout");
        var fromCertificate = await OpenSsl.RunAsync(directory.Path, "x509", "-in", "issuing.pem", "-noout", "-pubkey");
        Assert.Equal(fromCertificate, fromKey);
        var (exitCode, _, _) = await OpenSsl.TryRunAsync(directory.Path, "pkey", "-in", "issuing.key", "-passin", "pass:wrong", "-pubout");
        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public async Task LoadOrCreateAsync_EncryptedMaterialWithPassphrase_LoadsSameCa()
    {
        var store = new InMemoryCaMaterialStore();
        string issuingId;
        using (var created = await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = Passphrase))
        {
            issuingId = created.IssuingCertificateId;
        }

        using var loaded = await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = Passphrase);
        var issued = await loaded.IssueWithNewKeyAsync(CancellationToken.None);

        Assert.Equal(issuingId, loaded.IssuingCertificateId);
        Assert.True(CertificateInspector.IsIssuedBy(CertificateInspector.Parse(issued.CertificatePem).Certificate, loaded.Issuing));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong passphrase")]
    public async Task LoadOrCreateAsync_EncryptedMaterialWithoutRightPassphrase_ThrowsCaLocked(string? passphrase)
    {
        var store = new InMemoryCaMaterialStore();
        using (await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = Passphrase))
        {
        }

        var error = await Assert.ThrowsAsync<PkiException>(() => TestCa.CreateAsync(store: store, configure: o => o.Passphrase = passphrase));

        Assert.Equal(PkiError.CaLocked, error.Error);
        Assert.Contains("passphrase", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, store.Saves);
    }

    [Fact]
    public async Task LoadOrCreateAsync_PlainMaterialThenPassphrase_EncryptsStoredKeys()
    {
        var store = new InMemoryCaMaterialStore();
        using (await TestCa.CreateAsync(store: store))
        {
        }

        Assert.False(store.Material!.KeysEncrypted);
        using (await TestCa.CreateAsync(store: store, configure: o => o.Passphrase = Passphrase))
        {
        }

        Assert.True(store.Material.KeysEncrypted);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", store.Material.RootKeyPem, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", store.Material.IssuingKeyPem, StringComparison.Ordinal);
        var error = await Assert.ThrowsAsync<PkiException>(() => TestCa.CreateAsync(store: store));
        Assert.Equal(PkiError.CaLocked, error.Error);
    }

    [Fact]
    public async Task LoadOrCreateAsync_IssuingKeyNotMatchingCertificate_Throws()
    {
        var store = new InMemoryCaMaterialStore();
        using (await TestCa.CreateAsync(store: store))
        {
        }

        store.Material = store.Material! with { IssuingKeyPem = store.Material.RootKeyPem };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestCa.CreateAsync(store: store));
        Assert.Contains("does not belong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadOrCreateAsync_IssuingCertificateFromOtherRoot_Throws()
    {
        var store = new InMemoryCaMaterialStore();
        var other = new InMemoryCaMaterialStore();
        using (await TestCa.CreateAsync(store: store))
        using (await TestCa.CreateAsync(store: other))
        {
        }

        store.Material = store.Material! with { RootCertificatePem = other.Material!.RootCertificatePem };

        await Assert.ThrowsAsync<InvalidOperationException>(() => TestCa.CreateAsync(store: store));
    }

    internal static T Extension<T>(X509Certificate2 certificate)
        where T : X509Extension => Assert.Single(certificate.Extensions.OfType<T>());

    private static int KeySize(X509Certificate2 certificate)
    {
        using var rsa = certificate.GetRSAPublicKey();
        using var ec = certificate.GetECDsaPublicKey();
        return rsa?.KeySize ?? ec!.KeySize;
    }
}

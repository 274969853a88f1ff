using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed partial class CertificateAuthorityTests
{
    [Theory]
    [InlineData(KeyAlgorithm.EcP256, KeyAlgorithm.Rsa2048)]
    [InlineData(KeyAlgorithm.EcP384, KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Rsa2048, KeyAlgorithm.EcP384)]
    [InlineData(KeyAlgorithm.Rsa2048, KeyAlgorithm.Rsa2048)]
    public async Task IssueWithNewKeyAsync_AnyCaKey_VerifiesAgainstChainWithOpenSsl(KeyAlgorithm caKey, KeyAlgorithm deviceKey)
    {
        using var ca = await TestCa.CreateAsync(caKey: caKey, deviceKey: deviceKey);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        using var directory = new TempDirectory();
        await directory.WriteAsync("chain.pem", ca.ChainPem);
        await directory.WriteAsync("root.pem", ca.Root.ExportCertificatePem());
        await directory.WriteAsync("issuing.pem", ca.Issuing.ExportCertificatePem());
        await directory.WriteAsync("cert.pem", issued.CertificatePem);

        var chain = await OpenSsl.RunAsync(directory.Path, "verify", "-CAfile", "chain.pem", "cert.pem");

        // Stricter: only the root trusted, the issuing CA as an untrusted intermediate, for TLS client use.
        var strict = await OpenSsl.RunAsync(directory.Path, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "cert.pem");
        Assert.Equal("cert.pem: OK", chain.Trim());
        Assert.Equal("cert.pem: OK", strict.Trim());
    }

    [Theory]
    [InlineData(KeyAlgorithm.Rsa2048, "RSA PRIVATE KEY")]
    [InlineData(KeyAlgorithm.EcP256, "EC PRIVATE KEY")]
    [InlineData(KeyAlgorithm.EcP384, "EC PRIVATE KEY")]
    public async Task IssueWithNewKeyAsync_DeviceKeyAlgorithm_ReturnsMatchingKeyInAwsFormat(KeyAlgorithm deviceKey, string label)
    {
        using var ca = await TestCa.CreateAsync(deviceKey: deviceKey);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        using var directory = new TempDirectory();
        await directory.WriteAsync("cert.pem", issued.CertificatePem);
        await directory.WriteAsync("key.pem", issued.PrivateKeyPem!);

        var fromCertificate = await OpenSsl.RunAsync(directory.Path, "x509", "-in", "cert.pem", "-noout", "-pubkey");
        var fromKey = await OpenSsl.RunAsync(directory.Path, "pkey", "-in", "key.pem", "-pubout");

        Assert.StartsWith($"-----BEGIN {label}-----\n", issued.PrivateKeyPem, StringComparison.Ordinal);
        Assert.Equal(fromCertificate, fromKey);
        Assert.Equal(fromCertificate.Trim(), issued.PublicKeyPem.Trim());
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", issued.PublicKeyPem, StringComparison.Ordinal);

        // And the key signs what the certificate's public key verifies.
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem, issued.PrivateKeyPem);
        var data = "proof"u8.ToArray();
        if (deviceKey == KeyAlgorithm.Rsa2048)
        {
            using var key = certificate.GetRSAPrivateKey()!;
            Assert.Equal(2048, key.KeySize);
            Assert.True(certificate.GetRSAPublicKey()!.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        }
        else
        {
            using var key = certificate.GetECDsaPrivateKey()!;
            Assert.Equal(deviceKey == KeyAlgorithm.EcP256 ? 256 : 384, key.KeySize);
            Assert.True(certificate.GetECDsaPublicKey()!.VerifyData(data, key.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
        }
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_TwoIssues_GenerateDistinctKeys()
    {
        using var ca = await TestCa.CreateAsync(configure: o => o.KeyPoolSize = 2);

        var first = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        var second = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        Assert.NotEqual(first.PublicKeyPem, second.PublicKeyPem);
        Assert.NotEqual(first.PrivateKeyPem, second.PrivateKeyPem);
        Assert.NotEqual(first.CertificateId, second.CertificateId);
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256, KeyAlgorithm.Rsa2048, X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, "1.2.840.10045.4.3.2")]
    [InlineData(KeyAlgorithm.Rsa2048, KeyAlgorithm.EcP256, X509KeyUsageFlags.DigitalSignature, "1.2.840.113549.1.1.11")]
    public async Task IssueWithNewKeyAsync_AnyKey_HasFleetkeyDeviceProfile(KeyAlgorithm caKey, KeyAlgorithm deviceKey, X509KeyUsageFlags usages, string signatureAlgorithm)
    {
        using var ca = await TestCa.CreateAsync(caKey: caKey, deviceKey: deviceKey);

        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.Equal("CN=Fleetkey Device Certificate", certificate.Subject);
        Assert.Equal(ca.Issuing.Subject, certificate.Issuer);
        Assert.Equal(signatureAlgorithm, certificate.SignatureAlgorithm.Value);
        Assert.Equal(3, certificate.Version);
        AssertDeviceProfile(ca, certificate, usages);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), issued.CertificateId);
        Assert.Equal(certificate.ExportCertificatePem() + "\n", issued.CertificatePem);
        Assert.True(CertificateInspector.IsIssuedBy(certificate, ca.Issuing));
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_DefaultValidity_EndsAtAwsExpiry()
    {
        var time = TestCa.Clock();
        using var ca = await TestCa.CreateAsync(time: time);
        time.Advance(TimeSpan.FromDays(3));

        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        var expiry = new DateTimeOffset(2049, 12, 31, 23, 59, 59, TimeSpan.Zero);
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.Equal(expiry, issued.NotAfter);
        Assert.Equal(expiry, CertificateInspector.ToUtc(certificate.NotAfter));
        Assert.Equal(TestCa.Start.AddDays(3).AddMinutes(-5), issued.NotBefore);
        Assert.Equal(issued.NotBefore, CertificateInspector.ToUtc(certificate.NotBefore));
        using var directory = new TempDirectory();
        await directory.WriteAsync("cert.pem", issued.CertificatePem);
        Assert.Equal("notAfter=Dec 31 23:59:59 2049 GMT", (await OpenSsl.RunAsync(directory.Path, "x509", "-in", "cert.pem", "-noout", "-enddate")).Trim());
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_ConfiguredValidity_EndsValidityAfterNow()
    {
        var time = TestCa.Clock();
        using var ca = await TestCa.CreateAsync(time: time, configure: o => o.DeviceValidity = TimeSpan.FromDays(365));
        time.Advance(TimeSpan.FromDays(40) + TimeSpan.FromMilliseconds(700));
        var now = TestCa.Start.AddDays(40);

        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.Equal(now.AddDays(365), issued.NotAfter);
        Assert.Equal(now.AddDays(365), CertificateInspector.ToUtc(certificate.NotAfter));
        Assert.Equal(now.AddMinutes(-5), issued.NotBefore);
        Assert.Equal(now.AddMinutes(-5), CertificateInspector.ToUtc(certificate.NotBefore));
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_ValidityBeyondIssuingCa_EndsWithIssuingCa()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var ca = await TestCa.CreateAsync(time: time, configure: o => o.DeviceValidity = TimeSpan.FromDays(100 * 365));
        time.Advance(TimeSpan.FromDays(1));

        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        Assert.Equal(CertificateInspector.ToUtc(ca.Issuing.NotAfter), issued.NotAfter);
        Assert.True(issued.NotAfter < new DateTimeOffset(2070, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_HundredIssues_SerialNumbersPositiveLongAndDistinct()
    {
        using var ca = await TestCa.CreateAsync();
        var serials = new HashSet<string>(StringComparer.Ordinal);

        for (var i = 0; i < 100; i++)
        {
            var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
            using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
            var serial = certificate.SerialNumberBytes.Span;
            Assert.True(serial.Length >= 8, $"serial of {serial.Length} bytes");
            Assert.True(serial[0] < 0x80, "negative serial");
            Assert.NotEqual(0, serial[0]);
            Assert.True(serials.Add(certificate.SerialNumber), "repeated serial");
        }

        Assert.Equal(100, serials.Count);
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_ConcurrentIssues_AllVerify()
    {
        using var ca = await TestCa.CreateAsync(configure: o => o.KeyPoolSize = 4);

        var issued = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => ca.IssueWithNewKeyAsync(CancellationToken.None))));

        Assert.All(issued, i => Assert.True(CertificateInspector.IsIssuedBy(CertificateInspector.Parse(i.CertificatePem).Certificate, ca.Issuing)));
        Assert.Equal(64, issued.Select(i => i.CertificateId).Distinct().Count());
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var ca = await TestCa.CreateAsync(configure: o => o.KeyPoolSize = 2);
        ca.Dispose();
        ca.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => ca.IssueWithNewKeyAsync(CancellationToken.None));
    }

    [Fact]
    public async Task IssueServerCertificate_DnsAndIp_VerifiesForTlsServerWithOpenSsl()
    {
        using var ca = await TestCa.CreateAsync();

        using var certificate = ca.IssueServerCertificate(["localhost"], [System.Net.IPAddress.Loopback], TimeSpan.FromDays(30));

        Assert.True(certificate.HasPrivateKey);
        using (var key = certificate.GetECDsaPrivateKey()!)
        using (var publicKey = certificate.GetECDsaPublicKey()!)
        {
            Assert.True(publicKey.VerifyData("hello"u8, key.SignData("hello"u8.ToArray(), HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
        }

        using var directory = new TempDirectory();
        await directory.WriteAsync("chain.pem", ca.ChainPem);
        await directory.WriteAsync("server.pem", certificate.ExportCertificatePem());
        var output = await OpenSsl.RunAsync(directory.Path, "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "localhost", "-verify_ip", "127.0.0.1", "-CAfile", "chain.pem", "server.pem");
        Assert.Equal("server.pem: OK", output.Trim());
    }

    internal static void AssertDeviceProfile(CertificateAuthority ca, X509Certificate2 certificate, X509KeyUsageFlags usages)
    {
        var constraints = Extension<X509BasicConstraintsExtension>(certificate);
        Assert.True(constraints.Critical);
        Assert.False(constraints.CertificateAuthority);
        var keyUsage = Extension<X509KeyUsageExtension>(certificate);
        Assert.True(keyUsage.Critical);
        Assert.Equal(usages, keyUsage.KeyUsages);
        var extendedUsage = Extension<X509EnhancedKeyUsageExtension>(certificate);
        Assert.Equal("1.3.6.1.5.5.7.3.2", Assert.Single(extendedUsage.EnhancedKeyUsages.Cast<Oid>()).Value);
        Assert.NotEmpty(Extension<X509SubjectKeyIdentifierExtension>(certificate).SubjectKeyIdentifierBytes.ToArray());
        Assert.Equal(
            Extension<X509SubjectKeyIdentifierExtension>(ca.Issuing).SubjectKeyIdentifierBytes.ToArray(),
            Extension<X509AuthorityKeyIdentifierExtension>(certificate).KeyIdentifier!.Value.ToArray());
        Assert.Equal(5, certificate.Extensions.Count);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class CertificateInspectorTests
{
    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task CertificateId_IssuedCertificate_EqualsOpenSslSha256Fingerprint(KeyAlgorithm deviceKey)
    {
        using var ca = await TestCa.CreateAsync(deviceKey: deviceKey);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        using var directory = new TempDirectory();
        await directory.WriteAsync("cert.pem", issued.CertificatePem);

        var output = await OpenSsl.RunAsync(directory.Path, "x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha256");

        var fingerprint = output.Trim()[(output.IndexOf('=', StringComparison.Ordinal) + 1)..].Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        Assert.Equal(64, fingerprint.Length);
        Assert.Equal(fingerprint, issued.CertificateId);
        Assert.Equal(fingerprint, CertificateInspector.CertificateId(CertificateInspector.Parse(issued.CertificatePem).Certificate.RawData));
    }

    /// <summary>Found by the export fuzz target (transfer.import): the validity was read after the loader's checks, and threw.</summary>
    [Fact]
    public async Task Parse_ValidityThatIsNotADate_IsAnInvalidCertificate()
    {
        using var ca = await TestCa.CreateAsync();
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        var der = PemEncoding.Find(issued.CertificatePem) is var fields ? Convert.FromBase64String(issued.CertificatePem[fields.Base64Data]) : [];

        // notBefore is the first UTCTime (tag 0x17, 13 bytes "YYMMDDhhmmssZ"): its first digit becomes a letter.
        var notBefore = der.AsSpan().IndexOf([(byte)0x17, (byte)0x0d]);
        der[notBefore + 2] = (byte)'a';

        var error = Assert.Throws<PkiException>(() => CertificateInspector.Parse(PemEncoding.WriteString("CERTIFICATE", der)));
        Assert.Equal(PkiError.InvalidCertificate, error.Error);
    }

    [Fact]
    public async Task Parse_IssuedCertificate_ReturnsItsFields()
    {
        var time = TestCa.Clock();
        using var ca = await TestCa.CreateAsync(time: time);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);

        // Text around the PEM block is allowed, as openssl allows it.
        var parsed = CertificateInspector.Parse("Subject: device\r\n" + issued.CertificatePem.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.Equal(issued.CertificateId, parsed.CertificateId);
        Assert.Equal(issued.CertificatePem, parsed.CertificatePem);
        Assert.Equal("CN=Fleetkey Device Certificate", parsed.Subject);
        Assert.Equal(ca.Issuing.Subject, parsed.Issuer);
        Assert.Equal(issued.NotBefore, parsed.NotBefore);
        Assert.Equal(issued.NotAfter, parsed.NotAfter);
        Assert.False(parsed.IsCertificateAuthority);
        Assert.True(CertificateInspector.Parse(ca.Issuing.ExportCertificatePem()).IsCertificateAuthority);
    }

    public static TheoryData<string> NotOneCertificate => new()
    {
        "",
        "garbage",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
        PemEncoding.WriteString("CERTIFICATE", [0x30, 0x03, 0x02, 0x01, 0x01]),
    };

    [Theory]
    [MemberData(nameof(NotOneCertificate))]
    public void Parse_Garbage_ThrowsInvalidCertificate(string pem)
    {
        var error = Assert.Throws<PkiException>(() => CertificateInspector.Parse(pem));

        Assert.Equal(PkiError.InvalidCertificate, error.Error);
    }

    [Fact]
    public async Task Parse_ChainOrKeyOrTrailingBytes_ThrowsInvalidCertificate()
    {
        using var ca = await TestCa.CreateAsync(deviceKey: KeyAlgorithm.EcP256);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        var der = CertificateInspector.Parse(issued.CertificatePem).Certificate.RawData;

        foreach (var pem in new[] { ca.ChainPem, issued.CertificatePem + issued.PrivateKeyPem, issued.PrivateKeyPem!, PemEncoding.WriteString("CERTIFICATE", [.. der, 0x00]) })
        {
            var error = Assert.Throws<PkiException>(() => CertificateInspector.Parse(pem));
            Assert.Equal(PkiError.InvalidCertificate, error.Error);
        }
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.EcP384)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task IsIssuedBy_IssuedCertificates_ReturnsTrueForIssuerOnly(KeyAlgorithm caKey)
    {
        using var ca = await TestCa.CreateAsync(caKey: caKey);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);

        Assert.True(CertificateInspector.IsIssuedBy(certificate, ca.Issuing));
        Assert.True(CertificateInspector.IsIssuedBy(ca.Issuing, ca.Root));
        Assert.False(CertificateInspector.IsIssuedBy(certificate, ca.Root));
        Assert.False(CertificateInspector.IsIssuedBy(ca.Root, ca.Issuing));
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task IsIssuedBy_OtherCaWithSameSubject_ReturnsFalse(KeyAlgorithm caKey)
    {
        using var ca = await TestCa.CreateAsync(caKey: caKey);
        using var impostor = await TestCa.CreateAsync(caKey: caKey);
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);

        Assert.Equal(ca.Issuing.Subject, impostor.Issuing.Subject);
        Assert.False(CertificateInspector.IsIssuedBy(certificate, impostor.Issuing));
        Assert.False(CertificateInspector.IsIssuedBy(ca.Issuing, impostor.Root));
    }

    [Fact]
    public async Task IsIssuedBy_TamperedCertificate_ReturnsFalse()
    {
        using var ca = await TestCa.CreateAsync();
        var issued = await ca.IssueWithNewKeyAsync(CancellationToken.None);
        var der = CertificateInspector.Parse(issued.CertificatePem).Certificate.RawData;
        var at = der.AsSpan().IndexOf("Fleetkey Device"u8);
        der[at] = (byte)'G';

        using var tampered = X509CertificateLoader.LoadCertificate(der);

        Assert.False(CertificateInspector.IsIssuedBy(tampered, ca.Issuing));
    }

    [Theory]
    [InlineData("rsa:2048", "-sha256", true)]
    [InlineData("rsa:2048", "-sha384", true)]
    [InlineData("rsa:2048", "-sha512", true)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", "-sha512", true)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-384", "-sha384", true)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-521", "-sha256", true)]
    [InlineData("rsa:2048", "-sha1", false)]
    public async Task IsIssuedBy_CertificateSignedByOpenSslCa_VerifiesSupportedAlgorithms(string caKey, string digest, bool expected)
    {
        using var directory = new TempDirectory();
        string[] newCa = ["req", "-x509", "-newkey", .. caKey.Split(' '), "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/O=Outside/CN=Outside CA", "-days", "30"];
        await OpenSsl.RunAsync(directory.Path, newCa);
        await OpenSsl.RunAsync(directory.Path, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-subj", "/CN=leaf", "-out", "leaf.csr");
        await OpenSsl.RunAsync(directory.Path, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "4242", "-days", "10", digest, "-out", "leaf.pem");
        using var issuer = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(directory.File("ca.pem")));
        var leaf = CertificateInspector.Parse(await File.ReadAllTextAsync(directory.File("leaf.pem")));

        Assert.Equal(expected, CertificateInspector.IsIssuedBy(leaf.Certificate, issuer));
    }
}

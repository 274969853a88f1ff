using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed partial class CertificateAuthorityTests
{
    private const string CsrSubject = "/C=DE/O=Acme Devices/CN=device-0001";

    [Theory]
    [InlineData("rsa:2048", X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", X509KeyUsageFlags.DigitalSignature)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-384", X509KeyUsageFlags.DigitalSignature)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-521", X509KeyUsageFlags.DigitalSignature)]
    public async Task IssueFromCsr_OpenSslCsr_SignsWithSubjectKeptAndFleetkeyExtensions(string newKey, X509KeyUsageFlags usages)
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, newKey, "-addext", "subjectAltName=DNS:evil.example.com,IP:10.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");

        var issued = ca.IssueFromCsr(csr, CertificateSubject.FromRequest);

        Assert.Null(issued.PrivateKeyPem);
        await directory.WriteAsync("chain.pem", ca.ChainPem);
        await directory.WriteAsync("cert.pem", issued.CertificatePem);
        Assert.Equal("cert.pem: OK", (await OpenSsl.RunAsync(directory.Path, "verify", "-CAfile", "chain.pem", "cert.pem")).Trim());
        var subject = await OpenSsl.RunAsync(directory.Path, "x509", "-in", "cert.pem", "-noout", "-subject", "-nameopt", "compat");
        Assert.Equal("subject=" + CsrSubject, subject.Trim());
        var fromCsr = await OpenSsl.RunAsync(directory.Path, "req", "-in", "device.csr", "-noout", "-pubkey");
        var fromCertificate = await OpenSsl.RunAsync(directory.Path, "x509", "-in", "cert.pem", "-noout", "-pubkey");
        Assert.Equal(fromCsr, fromCertificate);
        Assert.Equal(fromCsr.Trim(), issued.PublicKeyPem.Trim());

        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.DoesNotContain(certificate.Extensions.Cast<X509Extension>(), e => e.Oid!.Value == "2.5.29.17");
        AssertDeviceProfile(ca, certificate, usages);
    }

    [Theory]
    [InlineData("SN-A")]
    [InlineData("name,O=Evil")]
    public async Task IssueFromCsr_IssuerChosenSubject_KeepsOnlyTheKeyOfTheCsr(string commonName)
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(
            directory, "ec -pkeyopt ec_paramgen_curve:P-256", "-subj", "/CN=SN-A/O=Evil/OU=admin",
            "-addext", "subjectAltName=DNS:evil.example.com,URI:spiffe://x/admin", "-addext", "extendedKeyUsage=serverAuth,codeSigning");

        var issued = ca.IssueFromCsr(csr, CertificateSubject.CommonName(commonName));

        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        var names = certificate.SubjectName.EnumerateRelativeDistinguishedNames().ToList();
        var only = Assert.Single(names);
        Assert.Equal(("2.5.4.3", commonName), (only.GetSingleElementType().Value, only.GetSingleElementValue()));
        Assert.DoesNotContain(certificate.Extensions.Cast<X509Extension>(), e => e.Oid!.Value == "2.5.29.17");
        AssertDeviceProfile(ca, certificate, X509KeyUsageFlags.DigitalSignature);
        var fromCsr = await OpenSsl.RunAsync(directory.Path, "req", "-in", "device.csr", "-noout", "-pubkey");
        Assert.Equal(fromCsr.Trim(), issued.PublicKeyPem.Trim());
    }

    [Fact]
    public async Task IssueWithNewKeyAsync_FromRequestSubject_ThrowsArgument()
    {
        using var ca = await TestCa.CreateAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => ca.IssueWithNewKeyAsync(CertificateSubject.FromRequest, CancellationToken.None));
    }

    [Fact]
    public async Task IssueFromCsr_SameCsrTwice_IssuesDistinctCertificates()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, "ec -pkeyopt ec_paramgen_curve:P-256");

        var first = ca.IssueFromCsr(csr, CertificateSubject.FromRequest);
        var second = ca.IssueFromCsr(csr, CertificateSubject.FromRequest);

        Assert.NotEqual(first.CertificateId, second.CertificateId);
        Assert.Equal(first.PublicKeyPem, second.PublicKeyPem);
    }

    [Fact]
    public async Task IssueFromCsr_RsaPssSignatureWithDigestSalt_Signs()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, "rsa:2048", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest", "-sha384");

        var issued = ca.IssueFromCsr(csr, CertificateSubject.FromRequest);

        Assert.True(CertificateInspector.IsIssuedBy(CertificateInspector.Parse(issued.CertificatePem).Certificate, ca.Issuing));
    }

    [Fact]
    public async Task IssueFromCsr_RsaPssSignatureWithMaximumSalt_ThrowsInvalidCsrNamingSalt()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, "rsa:2048", "-sigopt", "rsa_padding_mode:pss", "-sha256");

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(csr, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.InvalidCsr, error.Error);
        Assert.Contains("rsa_pss_saltlen:digest", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rsa:1024", "RSA key of 1024 bits: at least 2048 are required")]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-224", "P-256, P-384 or P-521")]
    [InlineData("ec -pkeyopt ec_paramgen_curve:secp256k1", "P-256, P-384 or P-521")]
    [InlineData("ed25519", "RSA (at least 2048 bits) or EC P-256, P-384 or P-521 is required")]
    public async Task IssueFromCsr_WeakOrUnsupportedKey_ThrowsUnsupportedKey(string newKey, string reason)
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, newKey);

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(csr, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.UnsupportedKey, error.Error);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueFromCsr_Sha1Signature_ThrowsInvalidCsr()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, "rsa:2048", "-sha1");

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(csr, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.InvalidCsr, error.Error);
        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rsa:2048", false)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", false)]
    [InlineData("rsa:2048", true)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", true)]
    public async Task IssueFromCsr_TamperedCsr_ThrowsCsrSignatureInvalid(string newKey, bool tamperSignature)
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var der = PemEncoding.Find(await CreateCsrAsync(directory, newKey)) is var fields ? Convert.FromBase64String((await File.ReadAllTextAsync(directory.File("device.csr")))[fields.Base64Data]) : [];
        if (tamperSignature)
        {
            der[^1] ^= 0x01;
        }
        else
        {
            // Another subject under the original signature: a request for a name the key holder did not ask for.
            var at = der.AsSpan().IndexOf("device-0001"u8);
            Assert.True(at > 0);
            der[at + "device-000".Length] = (byte)'2';
        }

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(PemEncoding.WriteString("CERTIFICATE REQUEST", der), CertificateSubject.FromRequest));

        Assert.Equal(PkiError.CsrSignatureInvalid, error.Error);
    }

    public static TheoryData<string> GarbageCsrs => new()
    {
        "",
        "not a csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n",
        PemEncoding.WriteString("CERTIFICATE REQUEST", Encoding.ASCII.GetBytes("0123456789abcdef")),
        PemEncoding.WriteString("CERTIFICATE REQUEST", [0x30, 0x03, 0x02, 0x01, 0x01]),
    };

    [Theory]
    [MemberData(nameof(GarbageCsrs))]
    public async Task IssueFromCsr_Garbage_ThrowsInvalidCsr(string csr)
    {
        using var ca = await TestCa.CreateAsync();

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(csr, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.InvalidCsr, error.Error);
    }

    [Fact]
    public async Task IssueFromCsr_CertificateInsteadOfCsr_ThrowsInvalidCsr()
    {
        using var ca = await TestCa.CreateAsync();

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(ca.ChainPem, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.InvalidCsr, error.Error);
    }

    [Fact]
    public async Task IssueFromCsr_TwoCsrsInOnePem_ThrowsInvalidCsr()
    {
        using var ca = await TestCa.CreateAsync();
        using var directory = new TempDirectory();
        var csr = await CreateCsrAsync(directory, "ec -pkeyopt ec_paramgen_curve:P-256");

        var error = Assert.Throws<PkiException>(() => ca.IssueFromCsr(csr + csr, CertificateSubject.FromRequest));

        Assert.Equal(PkiError.InvalidCsr, error.Error);
    }

    /// <summary>`openssl req -new -newkey …` into device.csr, as a device maker would run it.</summary>
    private static async Task<string> CreateCsrAsync(TempDirectory directory, string newKey, params string[] extra)
    {
        var newKeyArguments = newKey.Split(' ');
        string[] arguments = ["req", "-new", "-newkey", .. newKeyArguments, "-nodes", "-keyout", "device.key", "-subj", CsrSubject, "-out", "device.csr", .. extra];
        await OpenSsl.RunAsync(directory.Path, arguments);
        return await File.ReadAllTextAsync(directory.File("device.csr"));
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CsCheck;
using Fleetkey.Pki;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// <c>pki.csr</c>: <see cref="CsrReader"/>, which reads CSRs from devices (device endpoint, fleet
/// provisioning) and operators. Properties: random and mutated DER and PEM never throw anything but
/// the documented <see cref="PkiException"/>; whatever it accepts, a certificate issued with an
/// issuer-chosen subject carries that subject only, and none of the CSR's extensions.
/// </summary>
public sealed class CsrFuzzTests : IAsyncLifetime
{
    private const string Target = "pki.csr";

    // Well-formed requests to mutate: EC and RSA keys, PKCS#1 and PSS signatures, a subject and extensions asked for.
    private static readonly byte[][] Seeds = [.. MakeSeeds()];

    private static readonly Gen<string> Pem = Gen.OneOf(
        // A seed's DER with byte edits, in a PEM block.
        Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Int.Array[1, 6], (seed, edits) => Wrap("CERTIFICATE REQUEST", Mutate(Seeds[seed], edits))),
        // A seed cut short or grown, DER lengths then lie.
        Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Int[0, 2000], (seed, cut) => Wrap("CERTIFICATE REQUEST", Seeds[seed][..Math.Min(cut, Seeds[seed].Length)])),
        Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Byte.Array[1, 64], (seed, tail) => Wrap("NEW CERTIFICATE REQUEST", [.. Seeds[seed], .. tail])),
        // Random DER, and random text around PEM markers.
        Gen.Byte.Array[0, 512].Select(bytes => Wrap("CERTIFICATE REQUEST", bytes)),
        Gen.OneOf(
                "-----BEGIN CERTIFICATE REQUEST-----", "-----END CERTIFICATE REQUEST-----", "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
                "\n", "MII", "AAAA", "====", "=", "é", "\0", "-----", Convert.ToBase64String(Seeds[0]), Convert.ToBase64String(Seeds[0][..40]))
            .Array[0, 8]
            .Select(parts => string.Concat(parts)),
        Gen.String);

    private CertificateAuthority _ca = null!;

    public async Task InitializeAsync() =>
        _ca = await CertificateAuthority.LoadOrCreateAsync(
            new MemoryCaStore(), new PkiOptions { DeviceKeyAlgorithm = KeyAlgorithm.EcP256, KeyPoolSize = 0 }, TimeProvider.System, CancellationToken.None);

    public Task DisposeAsync()
    {
        _ca.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Read_AnyPem_ThrowsOnlyPkiExceptionAndIssuesOnlyTheIssuersSubject()
    {
        var subject = CertificateSubject.CommonName("SN-1");
        Fuzz.Run(Target, Pem, pem =>
        {
            try
            {
                _ = CsrReader.Read(pem);
            }
            catch (PkiException)
            {
                return;
            }

            var issued = _ca.IssueFromCsr(pem, subject);
            using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
            Assert.Equal("CN=SN-1", certificate.Subject);
            Assert.DoesNotContain(certificate.Extensions.Cast<X509Extension>(), e => e.Oid!.Value is "2.5.29.17" or "1.3.6.1.5.5.7.1.1");
            Assert.False(((X509BasicConstraintsExtension)certificate.Extensions["2.5.29.19"]!).CertificateAuthority);
        }, cases: 8_000);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n")]
    [InlineData("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")]
    public void Read_Degenerate_ThrowsInvalidCsr(string pem)
    {
        Assert.Equal(PkiError.InvalidCsr, Assert.Throws<PkiException>(() => CsrReader.Read(pem)).Error);
    }

    private static IEnumerable<byte[]> MakeSeeds()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var subject = new X500DistinguishedName("CN=SN-A, O=Evil, OU=admin");
        var ecRequest = new CertificateRequest(subject, ec, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("admin.example.com");
        names.AddUri(new Uri("spiffe://fleet/admin"));
        ecRequest.CertificateExtensions.Add(names.Build());
        ecRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        yield return ecRequest.CreateSigningRequest();
        yield return new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequest();
        yield return new CertificateRequest("CN=SN-B", rsa, HashAlgorithmName.SHA384, RSASignaturePadding.Pss).CreateSigningRequest();
    }

    private static string Wrap(string label, byte[] der) => PemEncoding.WriteString(label, der) + "\n";

    private static byte[] Mutate(byte[] seed, int[] edits) => Mutations.Apply(seed, edits, value => (byte)(value >> 16));
}

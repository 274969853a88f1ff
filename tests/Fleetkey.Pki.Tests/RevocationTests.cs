using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Pki.Tests;

/// <summary>What the CA puts in certificates for relying parties, the CRLs it signs (checked by openssl) and its OCSP responder (read by BouncyCastle).</summary>
public sealed class RevocationTests
{
    private static readonly Uri Base = new("http://iot.example.test:5081/");

    private static readonly OcspStatusLookup Good = (_, _, _) => ValueTask.FromResult(OcspCertificateStatus.Good);

    [Fact]
    public void RevocationUrls_DeviceListenerAndPublicHost_NameThePublicHostOnTheListenersPort()
    {
        Assert.Equal("https://iot.example.test:5081/", RevocationUrls.Base(new Uri("https://0.0.0.0:5081"), "iot.example.test").AbsoluteUri);
        Assert.Equal("http://[::1]:5081/", RevocationUrls.Base(new Uri("http://127.0.0.1:5081"), "::1").AbsoluteUri);
        Assert.Equal("http://iot.example.test:5081/crl/abc.crl", RevocationUrls.Crl(Base, "abc").AbsoluteUri);
        Assert.Equal("http://iot.example.test:5081/ocsp", RevocationUrls.Ocsp(Base).AbsoluteUri);
        Assert.Equal("http://iot.example.test:5081/ca/abc.cer", RevocationUrls.CaIssuers(Base, "abc").AbsoluteUri);
        Assert.Throws<ArgumentException>(() => RevocationUrls.Base(new Uri("http://127.0.0.1:5081"), "not a host"));
    }

    [Fact]
    public async Task IssueFromCsr_RevocationBase_NamesCrlOcspAndCaIssuers()
    {
        using var ca = await TestCa.CreateAsync(configure: o => o.RevocationBaseUri = Base);

        var issued = ca.IssueFromCsr(Csr(), CertificateSubject.Device);

        using var certificate = X509Certificate2.CreateFromPem(issued.CertificatePem);
        var crl = certificate.Extensions["2.5.29.31"];
        Assert.NotNull(crl);
        Assert.Contains($"http://iot.example.test:5081/crl/{ca.IssuingCertificateId}.crl", System.Text.Encoding.ASCII.GetString(crl.RawData), StringComparison.Ordinal);
        var access = Assert.Single(certificate.Extensions.OfType<X509AuthorityInformationAccessExtension>());
        Assert.Equal(["http://iot.example.test:5081/ocsp"], access.EnumerateOcspUris());
        Assert.Equal([$"http://iot.example.test:5081/ca/{ca.IssuingCertificateId}.cer"], access.EnumerateCAIssuersUris());
        Assert.Equal(CertificateInspector.SerialNumber(certificate), issued.SerialNumber);
    }

    [Fact]
    public async Task IssueFromCsr_NoRevocationBase_NoRevocationExtensions()
    {
        using var ca = await TestCa.CreateAsync();

        using var certificate = X509Certificate2.CreateFromPem(ca.IssueFromCsr(Csr(), CertificateSubject.Device).CertificatePem);

        Assert.Null(certificate.Extensions["2.5.29.31"]);
        Assert.Empty(certificate.Extensions.OfType<X509AuthorityInformationAccessExtension>());
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.Rsa2048)]
    public async Task SignCrl_Entries_OpenSslVerifiesAndReadsThem(KeyAlgorithm caKey)
    {
        using var ca = await TestCa.CreateAsync(caKey: caKey);
        using var directory = new TempDirectory();
        var thisUpdate = TestCa.Start;

        var crl = ca.SignCrl(
            [
                new RevokedCertificate(Convert.FromHexString("0a0b0c"), thisUpdate.AddHours(-2), null),
                new RevokedCertificate(Convert.FromHexString("7f01"), thisUpdate.AddHours(-1), X509RevocationReason.CertificateHold),
            ],
            new BigInteger(1_750_000_000_000),
            thisUpdate,
            thisUpdate.AddDays(1));

        await File.WriteAllBytesAsync(directory.File("ca.crl"), crl);
        await directory.WriteAsync("issuing.pem", ca.Issuing.ExportCertificatePem());
        var text = await OpenSsl.RunAsync(directory.Path, "crl", "-inform", "DER", "-in", "ca.crl", "-CAfile", "issuing.pem", "-noout", "-text");
        Assert.Contains("Serial Number: 0A0B0C", text, StringComparison.Ordinal);
        Assert.Contains("Serial Number: 7F01", text, StringComparison.Ordinal);
        Assert.Contains("Certificate Hold", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Unspecified", text, StringComparison.Ordinal);
        Assert.Contains("X509v3 CRL Number: \n                1750000000000", text.Replace("\r", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        var (exitCode, _, error) = await OpenSsl.TryRunAsync(directory.Path, "crl", "-inform", "DER", "-in", "ca.crl", "-CAfile", "issuing.pem", "-noout");
        Assert.True(exitCode == 0 && error.Contains("verify OK", StringComparison.Ordinal), error);
    }

    [Fact]
    public async Task IssueOcspResponderCertificate_Delegated_OcspSigningNoCheckShortLived()
    {
        var time = TestCa.Clock();
        using var ca = await TestCa.CreateAsync(time: time);

        using var responder = ca.IssueOcspResponderCertificate(TimeSpan.FromDays(1));

        Assert.True(responder.HasPrivateKey);
        Assert.True(CertificateInspector.IsIssuedBy(responder, ca.Issuing));
        Assert.Equal(["1.3.6.1.5.5.7.3.9"], responder.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.NotNull(responder.Extensions["1.3.6.1.5.5.7.48.1.5"]);
        Assert.False(responder.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(TestCa.Start.AddDays(1), CertificateInspector.ToUtc(responder.NotAfter));
    }

    [Fact]
    public async Task RespondAsync_Statuses_AnsweredAndSignedByTheDelegatedResponder()
    {
        using var r = await ResponderFixture.CreateAsync();
        var ca = r.Ca;
        var responder = r.Responder;
        var revokedAt = TestCa.Start.AddHours(-3);
        OcspStatusLookup lookup = (issuer, serial, _) =>
        {
            Assert.Equal(ca.IssuingCertificateId, issuer);
            return ValueTask.FromResult(Convert.ToHexStringLower(serial.Span) switch
            {
                "01" => OcspCertificateStatus.Good,
                "02" => OcspCertificateStatus.Revoked(revokedAt, null),
                "03" => OcspCertificateStatus.Revoked(revokedAt, X509RevocationReason.CertificateHold),
                _ => OcspCertificateStatus.Unknown,
            });
        };

        var answer = await responder.RespondAsync(OcspTestClient.Request(ca.Issuing, ["01", "02", "03", "04"]), lookup, CancellationToken.None);

        Assert.Equal(OcspResponseStatus.Successful, answer.Status);
        var reply = OcspTestClient.Read(answer.Response);
        var singles = reply.Successful.Responses;
        Assert.Equal(["good", "revoked", "revoked", "unknown"], singles.Select(OcspReply.StateOf));
        Assert.Equal(["01", "02", "03", "04"], singles.Select(s => s.GetCertID().SerialNumber.ToString(16).PadLeft(2, '0')));
        var revoked = (Org.BouncyCastle.Ocsp.RevokedStatus)singles[1].GetCertStatus();
        Assert.False(revoked.HasRevocationReason);
        Assert.Equal(revokedAt.UtcDateTime, revoked.RevocationTime);
        var held = (Org.BouncyCastle.Ocsp.RevokedStatus)singles[2].GetCertStatus();
        Assert.Equal(6, held.RevocationReason);
        Assert.Equal(TestCa.Start.UtcDateTime, singles[0].ThisUpdate);
        Assert.Equal(TestCa.Start.Add(OcspResponder.ResponseValidity).UtcDateTime, singles[0].NextUpdate);
        Assert.True(CertificateInspector.IsIssuedBy(reply.Responder, ca.Issuing));
        Assert.Null(reply.Nonce);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(16, true)]
    [InlineData(32, true)]
    [InlineData(33, false)]
    [InlineData(64, false)]
    public async Task RespondAsync_Nonce_EchoedWithinRfc8954Bounds(int length, bool echoed)
    {
        using var r = await ResponderFixture.CreateAsync();
        var ca = r.Ca;
        var responder = r.Responder;
        var nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);

        var answer = await responder.RespondAsync(OcspTestClient.Request(ca.Issuing, "01", nonce), Good, CancellationToken.None);

        var reply = OcspTestClient.Read(answer.Response);
        Assert.Equal("good", reply.State);
        Assert.Equal(echoed ? nonce : null, reply.Nonce);
    }

    [Fact]
    public async Task RespondAsync_Sha256CertId_Answered()
    {
        using var r = await ResponderFixture.CreateAsync();
        var ca = r.Ca;
        var responder = r.Responder;

        var request = OcspTestClient.Request(ca.Issuing, ["0102"], hash: OcspTestClient.Sha256);
        var answer = await responder.RespondAsync(request, Good, CancellationToken.None);

        Assert.Equal("good", OcspTestClient.Read(answer.Response).State);
    }

    [Fact]
    public async Task RespondAsync_ForeignIssuer_Unauthorized()
    {
        using var r = await ResponderFixture.CreateAsync();
        using var other = await TestCa.CreateAsync(time: r.Time);
        var asked = false;

        var answer = await r.Responder.RespondAsync(
            OcspTestClient.Request(other.Issuing, "01"), (_, _, _) => { asked = true; return ValueTask.FromResult(OcspCertificateStatus.Good); }, CancellationToken.None);

        Assert.Equal(OcspResponseStatus.Unauthorized, answer.Status);
        Assert.Equal(6, OcspTestClient.Read(answer.Response).Status);
        Assert.False(asked);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("3000")]
    [InlineData("30023000")]
    [InlineData("300530033001")]
    public async Task RespondAsync_Malformed_MalformedRequestStatus(string hex)
    {
        using var r = await ResponderFixture.CreateAsync();
        var responder = r.Responder;

        var answer = await responder.RespondAsync(Convert.FromHexString(hex), Good, CancellationToken.None);

        Assert.Equal(OcspResponseStatus.MalformedRequest, answer.Status);
        Assert.Equal(1, OcspTestClient.Read(answer.Response).Status);
    }

    [Fact]
    public async Task RespondAsync_TrailingBytesOrTooManyCertificates_MalformedRequest()
    {
        using var r = await ResponderFixture.CreateAsync();
        var ca = r.Ca;
        var responder = r.Responder;

        var trailing = (await responder.RespondAsync((byte[])[.. OcspTestClient.Request(ca.Issuing, "01"), 0x00], Good, CancellationToken.None)).Status;
        var many = (await responder.RespondAsync(OcspTestClient.Request(ca.Issuing, Enumerable.Range(1, 17).Select(i => i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))), Good, CancellationToken.None)).Status;
        var sixteen = (await responder.RespondAsync(OcspTestClient.Request(ca.Issuing, Enumerable.Range(1, 16).Select(i => i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))), Good, CancellationToken.None)).Status;

        Assert.Equal(OcspResponseStatus.MalformedRequest, trailing);
        Assert.Equal(OcspResponseStatus.MalformedRequest, many);
        Assert.Equal(OcspResponseStatus.Successful, sixteen);
    }

    [Fact]
    public async Task OcspSigner_HalfItsValidityPassed_NewKeyAndCertificate()
    {
        using var r = await ResponderFixture.CreateAsync();
        var time = r.Time;
        var ca = r.Ca;
        var responder = r.Responder;
        var request = OcspTestClient.Request(ca.Issuing, "01");

        var first = OcspTestClient.Read((await responder.RespondAsync(request, Good, CancellationToken.None)).Response).Responder;
        time.Advance(TimeSpan.FromHours(11));
        var same = OcspTestClient.Read((await responder.RespondAsync(request, Good, CancellationToken.None)).Response).Responder;
        time.Advance(TimeSpan.FromHours(2));
        var renewed = OcspTestClient.Read((await responder.RespondAsync(request, Good, CancellationToken.None)).Response).Responder;

        Assert.Equal(first.Thumbprint, same.Thumbprint);
        Assert.NotEqual(first.Thumbprint, renewed.Thumbprint);
        Assert.NotEqual(first.PublicKey.EncodedKeyValue.RawData, renewed.PublicKey.EncodedKeyValue.RawData);
        Assert.True(CertificateInspector.ToUtc(renewed.NotAfter) > time.GetUtcNow().Add(OcspResponder.ResponseValidity));
    }

    [Fact]
    public void DecodeGetPath_EveryBase64Form_TheRequest()
    {
        byte[] request = [0x30, 0x03, 0xfb, 0xff, 0x3e];
        var standard = Convert.ToBase64String(request);

        Assert.Equal(request, OcspResponder.DecodeGetPath(standard));
        Assert.Equal(request, OcspResponder.DecodeGetPath(Uri.EscapeDataString(standard)));
        Assert.Equal(request, OcspResponder.DecodeGetPath(standard.TrimEnd('=').Replace('+', '-').Replace('/', '_')));
        Assert.Empty(OcspResponder.DecodeGetPath("not*base64"));
        Assert.Empty(OcspResponder.DecodeGetPath("A"));
        Assert.Empty(OcspResponder.DecodeGetPath(new string('A', OcspRequestReader.MaxGetPathChars + 1)));
    }

    /// <summary>A CA on a fake clock and its OCSP responder.</summary>
    private sealed class ResponderFixture : IDisposable
    {
        private readonly OcspSigner _signer;

        private ResponderFixture(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, CertificateAuthority ca)
        {
            Time = time;
            Ca = ca;
            _signer = new OcspSigner(ca, time);
            Responder = new OcspResponder(ca, _signer, time);
        }

        public Microsoft.Extensions.Time.Testing.FakeTimeProvider Time { get; }

        public CertificateAuthority Ca { get; }

        public OcspResponder Responder { get; }

        public static async Task<ResponderFixture> CreateAsync()
        {
            var time = TestCa.Clock();
            return new ResponderFixture(time, await TestCa.CreateAsync(time: time));
        }

        public void Dispose()
        {
            _signer.Dispose();
            Ca.Dispose();
        }
    }

    private static string Csr()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=device", key, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}

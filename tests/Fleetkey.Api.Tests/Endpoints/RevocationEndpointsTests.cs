using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Pki;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Org.BouncyCastle.X509;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>The CRL, CA certificate and OCSP routes through the whole application, on the device listener only.</summary>
public sealed class RevocationEndpointsTests : IAsyncLifetime
{
    private FleetkeyTestHost _host = null!;
    private HttpClient _device = null!;

    public async Task InitializeAsync()
    {
        _host = await FleetkeyTestHost.StartAsync();
        _device = _host.CreateDeviceClient();
    }

    public async Task DisposeAsync()
    {
        _device.Dispose();
        await _host.DisposeAsync();
    }

    private CertificateAuthority Authority => _host.Services.GetRequiredService<CertificateAuthority>();

    private async Task<(string Id, string Serial, X509Certificate2 Certificate)> CreateCertificateAsync()
    {
        var created = (await _host.SendAsync(HttpMethod.Post, "/keys-and-certificate?setAsActive=true")).EnsureOk().Body!;
        var certificate = X509Certificate2.CreateFromPem(created["certificatePem"]!.GetValue<string>());
        return (created["certificateId"]!.GetValue<string>(), CertificateInspector.SerialNumber(certificate), certificate);
    }

    private async Task<OcspReply> PostOcspAsync(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        using var response = await _device.PostAsync("/ocsp", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ocsp-response", response.Content.Headers.ContentType?.MediaType);
        return OcspTestClient.Read(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task IssuedCertificate_NamesTheDeviceListenerOnThePublicHost()
    {
        var (_, _, certificate) = await CreateCertificateAsync();

        var access = Assert.Single(certificate.Extensions.OfType<X509AuthorityInformationAccessExtension>());
        Assert.Equal(["https://iot.fleetkey.test:5081/ocsp"], access.EnumerateOcspUris());
        Assert.Equal([$"https://iot.fleetkey.test:5081/ca/{Authority.IssuingCertificateId}.cer"], access.EnumerateCAIssuersUris());
    }

    [Fact]
    public async Task GetCrl_DeviceListener_SignedDerListingTheRevoked()
    {
        var (id, serial, _) = await CreateCertificateAsync();
        (await _host.SendAsync(HttpMethod.Put, $"/certificates/{id}?newStatus=REVOKED")).EnsureOk();

        using var response = await _device.GetAsync($"/crl/{Authority.IssuingCertificateId}.crl");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pkix-crl", response.Content.Headers.ContentType?.MediaType);
        var crl = new X509CrlParser().ReadCrl(await response.Content.ReadAsByteArrayAsync());
        crl.Verify(new X509CertificateParser().ReadCertificate(Authority.Issuing.RawData).GetPublicKey());
        Assert.Equal(serial, Assert.Single(crl.GetRevokedCertificates()).SerialNumber.ToString(16).PadLeft(serial.Length, '0'));
    }

    [Theory]
    [InlineData("/crl/{root}.crl")]
    [InlineData("/crl/0000000000000000000000000000000000000000000000000000000000000000.crl")]
    [InlineData("/crl/{issuing}.pem")]
    [InlineData("/crl/{ISSUING}.crl")]
    [InlineData("/ca/0000000000000000000000000000000000000000000000000000000000000000.cer")]
    public async Task Get_NotOneOfFleetkeys_404(string template)
    {
        var path = template.Replace("{root}", Authority.RootCertificateId, StringComparison.Ordinal)
            .Replace("{issuing}", Authority.IssuingCertificateId, StringComparison.Ordinal)
            .Replace("{ISSUING}", Authority.IssuingCertificateId.ToUpperInvariant(), StringComparison.Ordinal);

        using var response = await _device.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task GetCaCertificate_IssuingAndRoot_Der()
    {
        using var issuing = await _device.GetAsync($"/ca/{Authority.IssuingCertificateId}.cer");
        using var root = await _device.GetAsync($"/ca/{Authority.RootCertificateId}.cer");

        Assert.Equal("application/pkix-cert", issuing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Authority.Issuing.RawData, await issuing.Content.ReadAsByteArrayAsync());
        Assert.Equal(Authority.Root.RawData, await root.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ControlPlaneListener_RevocationRoutes_404()
    {
        using var crl = await _host.Anonymous.GetAsync($"/crl/{Authority.IssuingCertificateId}.crl");
        using var ocsp = await _host.Anonymous.PostAsync("/ocsp", new ByteArrayContent(OcspTestClient.Request(Authority.Issuing, "01")));

        Assert.Equal(HttpStatusCode.NotFound, crl.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, ocsp.StatusCode);
    }

    [Fact]
    public async Task Ocsp_PostAndGet_AnswerTheCertificatesStatus()
    {
        var (id, serial, _) = await CreateCertificateAsync();
        var request = OcspTestClient.Request(Authority.Issuing, serial, nonce: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

        var good = await PostOcspAsync(request);
        (await _host.SendAsync(HttpMethod.Put, $"/certificates/{id}?newStatus=INACTIVE")).EnsureOk();
        using var get = await _device.GetAsync("/ocsp/" + Uri.EscapeDataString(Convert.ToBase64String(request)));
        var held = OcspTestClient.Read(await get.Content.ReadAsByteArrayAsync());
        using var getUrlSafe = await _device.GetAsync("/ocsp/" + Convert.ToBase64String(request).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
        var heldUrlSafe = OcspTestClient.Read(await getUrlSafe.Content.ReadAsByteArrayAsync());

        Assert.Equal("good", good.State);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, good.Nonce);
        Assert.Equal(("revoked", (int?)6), (held.State, held.Reason));
        Assert.Equal(("revoked", (int?)6), (heldUrlSafe.State, heldUrlSafe.Reason));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(OcspResponder.MaxRequestBytes + 1)]
    [InlineData(100_000)]
    public async Task PostOcsp_MalformedOrTooLong_MalformedRequestWith200(int length)
    {
        var body = new byte[length];
        Array.Fill(body, (byte)0x30);

        var reply = await PostOcspAsync(body);

        Assert.Equal(1, reply.Status);
    }

    [Theory]
    [InlineData("/ocsp/")]
    [InlineData("/ocsp/%%%")]
    [InlineData("/ocsp/MAA=")]
    [InlineData("/ocsp/A")]
    public async Task GetOcsp_Malformed_MalformedRequestWith200(string path)
    {
        using var response = await _device.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, OcspTestClient.Read(await response.Content.ReadAsByteArrayAsync()).Status);
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Fleetkey.Services.Devices;
using Fleetkey.Storage;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>
/// POST /device/register through the whole application (device listener, AWS error rendering, the
/// real store), with bodies no well-behaved device sends (issue 16).
/// </summary>
public sealed class DeviceEndpointsTests : IAsyncLifetime
{
    private const int RatePerAddress = 5;
    private FleetkeyTestHost _host = null!;
    private DeviceEndpointDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _host = await FleetkeyTestHost.StartAsync(b => b.Services.Configure<DeviceEndpointOptions>(o => o.RatePerAddress = RatePerAddress));
        _driver = await DeviceEndpointDriver.CreateAsync(_host);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpClient From(string address) => _host.CreateDeviceClient(IPAddress.Parse(address));

    private Task<IReadOnlyList<DeviceAttempt>> AuditAsync() =>
        _host.Services.GetRequiredService<IFleetStore>().ReadAsync((session, ct) => session.DeviceEndpoint.ListAttemptsAsync(null, 1000, ct), CancellationToken.None);

    private Task<int> CertificatesAsync() =>
        _host.Services.GetRequiredService<IFleetStore>().ReadAsync(async (session, ct) => (await session.Certificates.ListAsync(null, true, null, 1000, ct)).Count, CancellationToken.None);

    [Fact]
    public async Task Register_InvalidUtf8InTheSerialNumber_400AuditedAndCountedByTheAddress()
    {
        // Issue 16, defect 2: this body answered 500 with a stack trace, unlimited and unaudited.
        byte[] body = [.. "{\"serialNumber\":\""u8, 0xff, .. "\"}"u8];
        using var device = From("192.0.2.1");
        var answers = new List<DeviceAnswer>();
        for (var i = 0; i <= RatePerAddress; i++)
        {
            answers.Add(await DeviceEndpointDriver.PostAsync(device, body, "SharedAccessSignature sr=x&se=1&sig=AAAA"));
        }

        Assert.All(answers.Take(RatePerAddress), a => Assert.Equal((400, "InvalidRequestException"), (a.Status, a.ErrorType)));
        Assert.Contains("UTF-8", answers[0].Message, StringComparison.Ordinal);
        Assert.Equal((429, "TooManyRequestsException", "60"), (answers[^1].Status, answers[^1].ErrorType, answers[^1].RetryAfter));
        var audit = await AuditAsync();
        Assert.Equal(RatePerAddress + 1, audit.Count);
        Assert.Equal(RatePerAddress, audit.Count(a => a.Outcome == DeviceAttemptOutcome.Invalid && a.SourceAddress == "192.0.2.1"));
    }

    public static TheoryData<string, byte[], string?, bool, string> HostileBodies() => new()
    {
        { "escaped lone surrogate", Encoding.UTF8.GetBytes("{\"serialNumber\":\"\\ud800\"}"), "application/json", false, "surrogate" },
        { "invalid UTF-8 in a key", [.. "{\"parameters\":{\""u8, 0xc3, .. "\":\"x\"},\"serialNumber\":\"SN-1\"}"u8], "application/json", false, "UTF-8" },
        { "duplicate key", Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-1\",\"serialNumber\":\"SN-2\"}"), "application/json", false, "twice" },
        { "deep", Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)), "application/json", false, "malformed" },
        { "wrong types", Encoding.UTF8.GetBytes("{\"serialNumber\":1,\"csr\":[],\"parameters\":{\"a\":{}}}"), "application/json", false, "must be" },
        { "not an object", Encoding.UTF8.GetBytes("[\"SN-1\"]"), "application/json", false, "object" },
        { "empty", [], "application/json", false, "malformed" },
        { "huge with a length", Encoding.UTF8.GetBytes("{\"serialNumber\":\"" + new string('x', 70_000) + "\"}"), "application/json", false, "larger than" },
        { "huge chunked", Encoding.UTF8.GetBytes("{\"serialNumber\":\"" + new string('x', 300_000) + "\"}"), "application/json", true, "larger than" },
        { "wrong content type", Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-1\"}"), "text/plain", false, "Content-Type" },
        { "form content type", Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-1\"}"), "application/x-www-form-urlencoded", false, "Content-Type" },
        { "latin-1 charset", Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-1\"}"), "application/json; charset=iso-8859-1", false, "Content-Type" },
        { "unknown member with control characters", Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-1\",\"a\\nb\\u0000\":1}"), "application/json", false, "'a?b?' is not a member of this request" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task Register_HostileBody_400InTheAwsShapeAuditedNothingElseWritten(string name, byte[] body, string? contentType, bool chunked, string expected)
    {
        var secret = await _driver.EnrollAsync("SN-1");
        using var device = From("192.0.2.2");
        var before = await CertificatesAsync();

        var answer = await DeviceEndpointDriver.PostAsync(device, body, _driver.Token(secret, "SN-1"), contentType, chunked);

        Assert.True((answer.Status, answer.ErrorType) == (400, "InvalidRequestException"), $"{name}: {answer.Status} {answer.Text}");
        Assert.Contains(expected, answer.Message, StringComparison.Ordinal);
        var attempt = Assert.Single(await AuditAsync());
        Assert.Equal((DeviceAttemptOutcome.Invalid, "192.0.2.2", false), (attempt.Outcome, attempt.SourceAddress, attempt.Authenticated));
        Assert.Equal(before, await CertificatesAsync());
        Assert.Null((await _host.SendAsync(HttpMethod.Get, "/things/SN-1")).Body?["thingName"]);
    }

    [Fact]
    public async Task Register_UnknownMemberWithAnApostrophe_EchoedReadablyInTheRawBody()
    {
        var secret = await _driver.EnrollAsync("SN-Q");
        using var device = From("192.0.2.5");

        var answer = await DeviceEndpointDriver.PostAsync(device, Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-Q\",\"o'clé\":1}"), _driver.Token(secret, "SN-Q"));

        Assert.Equal((400, "InvalidRequestException"), (answer.Status, answer.ErrorType));
        Assert.Contains("'o'clé' is not a member of this request", answer.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", answer.Text, StringComparison.Ordinal);
        Assert.Contains("'o'clé' is not a member of this request", answer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_FiveRandomSignaturesThenTheDevice_TheDeviceRegisters()
    {
        // Issue 16, defect 3: anyone could lock a device out for an hour with five bad requests.
        var secret = await _driver.EnrollAsync("SN-C");
        var body = Encoding.UTF8.GetBytes("{\"serialNumber\":\"SN-C\"}");
        for (var i = 0; i < 5; i++)
        {
            using var attacker = From($"203.0.113.{i + 1}");
            var guess = await DeviceEndpointDriver.PostAsync(attacker, body, SharedAccessSignature.Create(RandomNumberGenerator.GetBytes(32), "SN-C", _host.Time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds()));
            Assert.Equal(401, guess.Status);
        }

        using var device = From("192.0.2.3");
        var answer = await DeviceEndpointDriver.PostAsync(device, body, _driver.Token(secret, "SN-C"));

        Assert.True(answer.Status == 200, answer.Text);
        Assert.Equal("SN-C", answer.Body!["thingName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Register_CsrAskingForAnotherSubject_CertificateIsCnSerialInTheEnrollmentsRegion()
    {
        var secret = await _driver.EnrollAsync("SN-A");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=SN-A, O=Evil, OU=admin", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("admin.example.com");
        request.CertificateExtensions.Add(names.Build());
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { serialNumber = "SN-A", csr = request.CreateSigningRequestPem() });
        using var device = From("192.0.2.4");

        var answer = await DeviceEndpointDriver.PostAsync(device, body, _driver.Token(secret, "SN-A"));

        Assert.True(answer.Status == 200, answer.Text);
        using var certificate = X509Certificate2.CreateFromPem(answer.Body!["certificatePem"]!.GetValue<string>());
        Assert.Equal("CN=SN-A", certificate.Subject);
        Assert.DoesNotContain(certificate.Extensions.Cast<X509Extension>(), e => e.Oid!.Value == "2.5.29.17");

        // Issue 16, defect 7: the answer's ARN is in the region the enrollment was made in, as DescribeCertificate says.
        var id = answer.Body["certificateId"]!.GetValue<string>();
        var described = (await _host.SendAsync(HttpMethod.Get, $"/certificates/{id}")).EnsureOk();
        var arn = answer.Body["certificateArn"]!.GetValue<string>();
        Assert.Equal(described.Body!["certificateDescription"]!["certificateArn"]!.GetValue<string>(), arn);
        Assert.StartsWith($"arn:aws:iot:{FleetkeyTestHost.Region}:", arn, StringComparison.Ordinal);
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Naming;
using Fleetkey.Services.Security;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>
/// <c>GET /expiring-certificates</c> through the whole in-process control plane (SigV4, the model's
/// validation, page tokens, the real store).
/// </summary>
public sealed class ExpiringCertificatesEndpointsTests : IAsyncLifetime
{
    private const string ArnPrefix = "arn:aws:iot:eu-west-1:123456789012:cert/";
    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() => _host = await FleetkeyTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private DateTimeOffset Now => _host.Time.GetUtcNow();

    /// <summary>Registers (RegisterCertificateWithoutCA) a certificate that ends <paramref name="endsIn"/> from now; returns its id.</summary>
    internal static async Task<string> RegisterAsync(FleetkeyTestHost host, TimeSpan endsIn, string status = "ACTIVE")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var notAfter = host.Time.GetUtcNow() + endsIn;
        using var certificate = new CertificateRequest("CN=device", key, HashAlgorithmName.SHA256).CreateSelfSigned(notAfter.AddYears(-1), notAfter);
        var registered = (await host.SendAsync(HttpMethod.Post, "/certificate/register-no-ca", new { certificatePem = certificate.ExportCertificatePem(), status })).EnsureOk();
        return registered.Body!["certificateId"]!.GetValue<string>();
    }

    private Task<string> RegisterAsync(TimeSpan endsIn, string status = "ACTIVE") => RegisterAsync(_host, endsIn, status);

    private static DateTimeOffset Seconds(DateTimeOffset value) => DateTimeOffset.FromUnixTimeSeconds(value.ToUnixTimeSeconds());

    [Fact]
    public async Task List_Window_SoonestFirstWithThingsAndPagesBoundToTheFilters()
    {
        var soon = await RegisterAsync(TimeSpan.FromDays(2));
        var later = await RegisterAsync(TimeSpan.FromDays(20));
        var expired = await RegisterAsync(TimeSpan.FromDays(-1));
        await RegisterAsync(TimeSpan.FromDays(40));
        var inactive = await RegisterAsync(TimeSpan.FromDays(3), "INACTIVE");
        (await _host.SendAsync(HttpMethod.Post, "/things/pump-7", new { })).EnsureOk();
        await _host.Services.GetRequiredService<PrincipalService>().AttachAsync(new IotScope(FleetkeyTestHost.Region, "123456789012"), "pump-7", ArnPrefix + later, null, CancellationToken.None);

        var first = (await _host.SendAsync(HttpMethod.Get, "/expiring-certificates?within=30d&maxResults=1")).EnsureOk();
        var token = first.Body!["nextToken"]!.GetValue<string>();
        var second = (await _host.SendAsync(HttpMethod.Get, "/expiring-certificates?within=30d&maxResults=1&nextToken=" + Uri.EscapeDataString(token))).EnsureOk();

        var soonItem = Assert.Single(first.Body["certificates"]!.AsArray())!;
        Assert.Equal(soon, soonItem["certificateId"]!.GetValue<string>());
        Assert.Equal(ArnPrefix + soon, soonItem["certificateArn"]!.GetValue<string>());
        Assert.Equal("ACTIVE", soonItem["status"]!.GetValue<string>());
        Assert.Equal(Seconds(Now.AddDays(2)).ToUnixTimeSeconds(), soonItem["notAfter"]!.GetValue<double>());
        Assert.Empty(soonItem["thingNames"]!.AsArray());
        Assert.Null(soonItem["caCertificateId"]);
        var laterItem = Assert.Single(second.Body!["certificates"]!.AsArray())!;
        Assert.Equal(later, laterItem["certificateId"]!.GetValue<string>());
        Assert.Equal(["pump-7"], laterItem["thingNames"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Null(second.Body["nextToken"]);

        // Without a window, 30 days; with the expired ones and other statuses (repeated query parameters), more.
        var all = (await _host.SendAsync(HttpMethod.Get, "/expiring-certificates?includeExpired=true&status=ACTIVE&status=INACTIVE")).EnsureOk();
        Assert.Equal([expired, soon, inactive, later], all.Body!["certificates"]!.AsArray().Select(c => c!["certificateId"]!.GetValue<string>()));

        // A token is bound to the window and statuses it was made for.
        var other = await _host.SendAsync(HttpMethod.Get, "/expiring-certificates?within=31d&maxResults=1&nextToken=" + Uri.EscapeDataString(token));
        Assert.Equal((400, "InvalidRequestException", "Invalid nextToken"), (other.Status, other.ErrorType, other.Message));
    }

    [Theory]
    [InlineData("within=3x", "within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '3x'.")]
    [InlineData("within=3651d", "within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '3651d'.")]
    [InlineData("within=123456789d", "Member must have length less than or equal to 8")]
    [InlineData("status=EXPIRED", "Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]")]
    [InlineData("maxResults=251", "Member must have value between 1 and 250")]
    public async Task List_BadParameter_IsInvalidRequestSayingWhy(string query, string message)
    {
        var response = await _host.SendAsync(HttpMethod.Get, "/expiring-certificates?" + query);

        Assert.Equal((400, "InvalidRequestException"), (response.Status, response.ErrorType));
        Assert.Contains(message, response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_Unsigned_IsRefused()
    {
        using var response = await _host.Anonymous.GetAsync(new Uri("/expiring-certificates", UriKind.Relative));

        Assert.Equal(403, (int)response.StatusCode);
    }
}

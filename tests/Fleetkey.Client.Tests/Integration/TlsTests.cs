using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>Fleetkey.Client against the control plane over HTTPS, trusting the server's CA bundle (DIR/ca.pem).</summary>
public sealed class TlsTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    [Fact]
    public async Task ListThings_CaBundleOption_TrustsTheServersCertificate()
    {
        using var client = new IotClient(Options(caBundle: server.CaBundle));

        var page = await client.ListThingsAsync(new ListThingsRequest { MaxResults = 1 });

        Assert.NotNull(page.Things);
    }

    [Fact]
    public async Task ListThings_SystemRootsOnly_RefusesTheServersCertificate()
    {
        using var client = new IotClient(Options(caBundle: null));

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListThingsAsync(new ListThingsRequest()));

        Assert.IsType<AuthenticationException>(exception.InnerException);
    }

    [Fact]
    public async Task AddFleetkeyClient_CaBundle_AppliesToTheFactorysConnections()
    {
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o =>
        {
            var options = Options(server.CaBundle);
            o.Endpoint = options.Endpoint;
            o.Region = options.Region;
            o.AccessKeyId = options.AccessKeyId;
            o.SecretAccessKey = options.SecretAccessKey;
            o.CaBundle = options.CaBundle;
        });
        await using var provider = services.BuildServiceProvider();

        var page = await provider.GetRequiredService<IIotClient>().ListThingsAsync(new ListThingsRequest { MaxResults = 1 });

        Assert.NotNull(page.Things);
    }

    [Fact]
    public void Constructor_CaBundleMissing_SaysWhichFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fleetkey-no-such-ca.pem");

        var exception = Assert.Throws<InvalidOperationException>(() => new IotClient(Options(missing)));

        Assert.Contains(missing, exception.Message, StringComparison.Ordinal);
    }

    private IotClientOptions Options(string? caBundle) => new()
    {
        Endpoint = server.TlsEndpoint,
        Region = FleetkeyServer.Region,
        AccessKeyId = FleetkeyServer.AccessKeyId,
        SecretAccessKey = server.SecretAccessKey,
        MaxAttempts = 1,
        CaBundle = caBundle,
    };
}

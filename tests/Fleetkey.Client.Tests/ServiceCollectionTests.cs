using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Client.Tests;

public sealed class ServiceCollectionTests
{
    [Fact]
    public async Task AddFleetkeyClient_Configured_ResolvesClientThatSendsThroughFactoryPipeline()
    {
        var handler = FakeHandler.Always("""{"thingName":"t1"}""");
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o => Configure(o, new Uri("http://127.0.0.1:5999"))).ConfigurePrimaryHttpMessageHandler(() => handler);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IIotClient>();
        var thing = await client.DescribeThingAsync(new DescribeThingRequest { ThingName = "t1" });

        Assert.Equal("t1", thing.ThingName);
        var sent = Assert.Single(handler.Requests);
        Assert.Equal("http://127.0.0.1:5999/things/t1", sent.Uri.ToString());
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDDI/", sent.Header("Authorization"), StringComparison.Ordinal);
        Assert.Equal("eu-west-1", Assert.IsType<IotClient>(client).Region);
    }

    [Fact]
    public void AddFleetkeyClient_RegistrarOptions_ResolveRegistrarWithTemplate()
    {
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o => Configure(o, new Uri("http://127.0.0.1:5999")));
        services.Configure<DeviceRegistrarOptions>(o => o.TemplateBody = """{"Resources":{}}""");
        using var provider = services.BuildServiceProvider();

        var registrar = provider.GetRequiredService<DeviceRegistrar>();

        Assert.Equal("""{"Resources":{}}""", registrar.TemplateBody);
    }

    [Fact]
    public void AddFleetkeyClient_NoRegistrarOptions_UsesSeedTemplate()
    {
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o => Configure(o, endpoint: null));
        using var provider = services.BuildServiceProvider();

        Assert.Equal(DeviceRegistrar.SeedTemplateBody, provider.GetRequiredService<DeviceRegistrar>().TemplateBody);
        Assert.Equal("AKIDDI", Assert.IsType<IotClient>(provider.GetRequiredService<IIotClient>()).AccessKeyId);
    }

    [Fact]
    public void AddFleetkeyClient_MaxAttemptsZero_FailsValidation()
    {
        var services = new ServiceCollection();
        services.AddFleetkeyClient(o =>
        {
            Configure(o, endpoint: null);
            o.MaxAttempts = 0;
        });
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<IIotClient>());

        Assert.Contains("MaxAttempts", exception.Message, StringComparison.Ordinal);
    }

    private static void Configure(IotClientOptions options, Uri? endpoint)
    {
        options.Endpoint = endpoint;
        options.Region = "eu-west-1";
        options.AccessKeyId = "AKIDDI";
        options.SecretAccessKey = "secret";
    }
}

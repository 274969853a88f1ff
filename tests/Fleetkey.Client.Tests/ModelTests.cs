using System.Net;
using System.Text.Json.Nodes;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Client.Tests;

public sealed class ModelTests
{
    [Fact]
    public void KeyPair_ToString_HidesPrivateKey()
    {
        var keys = new KeyPair { PrivateKey = "-----BEGIN RSA PRIVATE KEY-----secret", PublicKey = "-----BEGIN PUBLIC KEY-----" };

        Assert.DoesNotContain("secret", keys.ToString(), StringComparison.Ordinal);
        Assert.Contains("PublicKey = -----BEGIN PUBLIC KEY-----", keys.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceRegistration_ToString_HidesPrivateKey()
    {
        var registration = new DeviceRegistration("arn", "id", "pem", "PRIVATE-secret", "public", new Dictionary<string, string>());

        Assert.DoesNotContain("PRIVATE-secret", registration.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SeedTemplateBody_IsTheRepositoryCopyAsJsonStringifySendsIt()
    {
        Assert.Equal(JsonNode.Parse(RepositoryFiles.SeedTemplateBody)!.ToJsonString(), DeviceRegistrar.SeedTemplateBody);
        Assert.StartsWith("""{"Parameters":{"ThingName":{"Type":"String"},""", DeviceRegistrar.SeedTemplateBody, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", DeviceRegistrar.SeedTemplateBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Response_EpochTimestamps_AreReadToTheMillisecond()
    {
        var handler = FakeHandler.Always("""{"thingTypeName":"t","thingTypeMetadata":{"deprecated":true,"creationDate":1700000000,"deprecationDate":1700000000.125}}""");
        using var http = new HttpClient(handler);
        var client = new IotClient(http, new IotClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), Region = "eu-west-1", AccessKeyId = "A", SecretAccessKey = "s" });

        var type = await client.DescribeThingTypeAsync(new DescribeThingTypeRequest { ThingTypeName = "t" });

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), type.ThingTypeMetadata!.CreationDate);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_125), type.ThingTypeMetadata.DeprecationDate);
        Assert.True(type.ThingTypeMetadata.Deprecated);
    }

    [Fact]
    public async Task Response_NotTheOutputShape_ThrowsInvalidResponse()
    {
        var handler = FakeHandler.Always("""{"thingName":42}""");
        using var http = new HttpClient(handler);
        var client = new IotClient(http, new IotClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), Region = "eu-west-1", AccessKeyId = "A", SecretAccessKey = "s" });

        var exception = await Assert.ThrowsAsync<IotServiceException>(() => client.DescribeThingAsync(new DescribeThingRequest { ThingName = "t" }));

        Assert.Equal("InvalidResponse", exception.ErrorCode);
        Assert.Equal(HttpStatusCode.OK, exception.StatusCode);
    }
}

using System.Net;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>The server's error answers as the client's exceptions: code, status, message, request id; and what is not retried.</summary>
public sealed class ErrorMappingTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task DescribeThing_Missing_ThrowsResourceNotFound404()
    {
        var exception = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "nowhere" }));

        Assert.Equal(("ResourceNotFoundException", HttpStatusCode.NotFound), (exception.ErrorCode, exception.StatusCode));
        Assert.Contains("nowhere", exception.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(exception.RequestId));
    }

    [Fact]
    public async Task CreateThingGroup_ExistsWithOtherProperties_ThrowsResourceAlreadyExists409()
    {
        await _client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = "dup", ThingGroupProperties = new ThingGroupProperties { ThingGroupDescription = "one" } });

        var exception = await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() =>
            _client.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = "dup", ThingGroupProperties = new ThingGroupProperties { ThingGroupDescription = "two" } }));

        Assert.Equal(HttpStatusCode.Conflict, exception.StatusCode);
        Assert.Contains("dup", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateThing_StaleExpectedVersion_ThrowsVersionConflict409()
    {
        await _client.CreateThingAsync(new CreateThingRequest { ThingName = "versioned" });
        await _client.UpdateThingAsync(new UpdateThingRequest { ThingName = "versioned", ExpectedVersion = 1, AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["a"] = "1" } } });

        var exception = await Assert.ThrowsAsync<VersionConflictException>(() =>
            _client.UpdateThingAsync(new UpdateThingRequest { ThingName = "versioned", ExpectedVersion = 1, AttributePayload = new AttributePayload { Attributes = new Dictionary<string, string> { ["a"] = "2" } } }));

        Assert.Equal(HttpStatusCode.Conflict, exception.StatusCode);
        Assert.Equal("1", (await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "versioned" })).Attributes?["a"]);
    }

    [Fact]
    public async Task CreateThing_InvalidName_ThrowsInvalidRequest400NamingTheField()
    {
        var exception = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.CreateThingAsync(new CreateThingRequest { ThingName = "no spaces allowed" }));

        Assert.Equal(HttpStatusCode.BadRequest, exception.StatusCode);
        Assert.Contains("thingName", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCall_WrongSecret_ThrowsInvalidSignature403AndIsNotRetried()
    {
        var handler = new CountingHandler();
        var client = server.CreateClient(secret: server.SecretAccessKey[..^1] + "x", handler: handler, maxAttempts: 5);

        var exception = await Assert.ThrowsAsync<InvalidSignatureException>(() => client.ListThingsAsync());

        Assert.Equal(HttpStatusCode.Forbidden, exception.StatusCode);
        Assert.Contains("signature", exception.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, handler.Count);
    }

    [Fact]
    public async Task AnyCall_UnknownAccessKey_ThrowsUnrecognizedClient403()
    {
        using var http = new HttpClient();
        var client = new IotClient(http, new IotClientOptions { Endpoint = server.Endpoint, Region = FleetkeyServer.Region, AccessKeyId = "AKIDUNKNOWN000000000", SecretAccessKey = "x" });

        var exception = await Assert.ThrowsAsync<UnrecognizedClientException>(() => client.ListThingsAsync());

        Assert.Equal(HttpStatusCode.Forbidden, exception.StatusCode);
    }
}

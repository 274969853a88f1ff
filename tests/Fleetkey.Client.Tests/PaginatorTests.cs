using System.Net;
using Xunit;

namespace Fleetkey.Client.Tests;

public sealed class PaginatorTests
{
    [Fact]
    public async Task ListAllThingsAsync_ThreePages_YieldsEveryItemAndSendsTokens()
    {
        var handler = new FakeHandler(
            _ => FakeHandler.Json(HttpStatusCode.OK, """{"things":[{"thingName":"a"},{"thingName":"b"}],"nextToken":"t1"}"""),
            _ => FakeHandler.Json(HttpStatusCode.OK, """{"things":[{"thingName":"c"}],"nextToken":"t2"}"""),
            _ => FakeHandler.Json(HttpStatusCode.OK, """{"things":[{"thingName":"d"}]}"""));
        using var http = new HttpClient(handler);
        var client = Client(http);

        var names = await client.ListAllThingsAsync(new ListThingsRequest { MaxResults = 2, ThingTypeName = "sensor" }).Select(t => t.ThingName).ToListAsync();

        Assert.Equal(["a", "b", "c", "d"], names);
        Assert.Equal(
            ["maxResults=2&thingTypeName=sensor", "maxResults=2&nextToken=t1&thingTypeName=sensor", "maxResults=2&nextToken=t2&thingTypeName=sensor"],
            handler.Requests.Select(r => r.Uri.Query.TrimStart('?')));
    }

    [Fact]
    public async Task ListAllCertificatesAsync_MarkerPagination_FollowsNextMarker()
    {
        var handler = new FakeHandler(
            _ => FakeHandler.Json(HttpStatusCode.OK, """{"certificates":[{"certificateId":"c1","creationDate":1700000000.5}],"nextMarker":"m1"}"""),
            _ => FakeHandler.Json(HttpStatusCode.OK, """{"certificates":[{"certificateId":"c2","creationDate":1700000001}],"nextMarker":""}"""));
        using var http = new HttpClient(handler);

        var certificates = await Client(http).ListAllCertificatesAsync().ToListAsync();

        Assert.Equal(["c1", "c2"], certificates.Select(c => c.CertificateId));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), certificates[0].CreationDate);
        Assert.Equal("marker=m1", handler.Requests[1].Uri.Query.TrimStart('?'));
    }

    [Fact]
    public async Task ListAllThingsAsync_StoppedEarly_FetchesNoFurtherPage()
    {
        var handler = FakeHandler.Always("""{"things":[{"thingName":"a"},{"thingName":"b"}],"nextToken":"more"}""");
        using var http = new HttpClient(handler);

        var first = await Client(http).ListAllThingsAsync().FirstAsync();

        Assert.Equal("a", first.ThingName);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task ListAllThingsAsync_ServiceRepeatsToken_ThrowsInsteadOfLooping()
    {
        var handler = FakeHandler.Always("""{"things":[],"nextToken":"same"}""");
        using var http = new HttpClient(handler);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Client(http).ListAllThingsAsync().ToListAsync().AsTask());

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task ListAllThingsAsync_Cancelled_StopsBeforeNextPage()
    {
        var handler = FakeHandler.Always("""{"things":[{"thingName":"a"}],"nextToken":"more"}""");
        using var http = new HttpClient(handler);
        using var cancellation = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in Client(http).ListAllThingsAsync(cancellationToken: cancellation.Token))
            {
                await cancellation.CancelAsync();
            }
        });

        Assert.Single(handler.Requests);
    }

    private static IotClient Client(HttpClient http) => new(http, new IotClientOptions
    {
        Endpoint = new Uri("http://127.0.0.1:5080"),
        Region = "eu-west-1",
        AccessKeyId = "AKIDTEST",
        SecretAccessKey = "secret",
    });
}

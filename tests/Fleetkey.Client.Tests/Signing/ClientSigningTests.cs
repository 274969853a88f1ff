using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Fleetkey.Api.Authentication;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Client.Tests.Signing;

/// <summary>
/// What <see cref="IotClient"/> puts on the wire: the same request and signature as botocore for
/// the same call, and a signature the server's own verifier accepts.
/// </summary>
public sealed class ClientSigningTests
{
    public static TheoryData<string> Names => [.. BotocoreClientVectors.All.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Call_SameAsBotocore_SendsBotocoresRequest(string name)
    {
        var vector = BotocoreClientVectors.Get(name);

        var sent = await SendAsync(vector);

        Assert.Equal(vector.Method, sent.Method);
        Assert.Equal(vector.Path, sent.Uri.AbsolutePath);
        Assert.Equal(Sorted(vector.Query), Sorted(sent.Uri.Query.TrimStart('?')));
        Assert.Equal(vector.Principal, sent.Header("x-amzn-principal"));
        Assert.Equal(name, sent.Operation);
        if (vector.Body.Length == 0)
        {
            Assert.Empty(sent.Body);
        }
        else
        {
            // botocore's JSON has spaces and \u escapes; the members and values must be the same.
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(vector.Body), JsonNode.Parse(sent.Body)), System.Text.Encoding.UTF8.GetString(sent.Body));
            Assert.Equal("application/json", sent.Header("Content-Type"));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Call_SameAsBotocore_IsSignedWithBotocoresSignature(string name)
    {
        var vector = BotocoreClientVectors.Get(name);
        var sent = await SendAsync(vector);

        // Where the JSON differs only in spacing, sign botocore's exact body the way the client signs.
        var authorization = vector.Body.Length == 0 ? sent.Header("Authorization") : SignWithBody(sent, vector.Body);

        Assert.Equal(vector.Authorization, authorization);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Call_SignedByClient_VerifiesWithServerVerifier(string name)
    {
        var sent = await SendAsync(BotocoreClientVectors.Get(name));

        var result = await VerifyAsync(sent);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
        Assert.Equal(new SigV4Identity(BotocoreClientVectors.AccessKeyId, BotocoreClientVectors.Region), result.Identity);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Call_SignedByClientThenPathChanged_FailsServerVerification(string name)
    {
        var sent = await SendAsync(BotocoreClientVectors.Get(name));

        var result = await VerifyAsync(sent with { Uri = new Uri(sent.Uri, sent.Uri.AbsolutePath + "x" + sent.Uri.Query) });

        Assert.Equal(SigV4FailureKind.SignatureMismatch, result.Failure);
    }

    [Fact]
    public async Task Call_SessionToken_IsSentAndSigned()
    {
        var handler = FakeHandler.Always();
        using var http = new HttpClient(handler);
        var client = new IotClient(http, Options(sessionToken: "FwoGZXIvYXdzEXAMPLE"), new FakeTimeProvider(BotocoreClientVectors.SignedAt));

        await client.DescribeThingAsync(new DescribeThingRequest { ThingName = "t" });

        var sent = Assert.Single(handler.Requests);
        Assert.Equal("FwoGZXIvYXdzEXAMPLE", sent.Header("x-amz-security-token"));
        Assert.Contains("SignedHeaders=host;x-amz-date;x-amz-security-token,", sent.Header("Authorization"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_EndpointWithPath_PrefixesOperationPath()
    {
        var handler = FakeHandler.Always();
        using var http = new HttpClient(handler);
        var options = Options();
        options.Endpoint = new Uri("http://127.0.0.1:5080/iot/");
        var client = new IotClient(http, options, new FakeTimeProvider(BotocoreClientVectors.SignedAt));

        await client.DescribeThingAsync(new DescribeThingRequest { ThingName = "a/b" });

        Assert.Equal("/iot/things/a%2Fb", Assert.Single(handler.Requests).Uri.AbsolutePath);
        Assert.True((await VerifyAsync(handler.Requests[0])).Succeeded);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public async Task Call_EmptyLabel_ThrowsBeforeSending(string? thingName)
    {
        var handler = FakeHandler.Always();
        using var http = new HttpClient(handler);
        var client = new IotClient(http, Options());

        await Assert.ThrowsAsync<ArgumentException>("ThingName", () => client.DescribeThingAsync(new DescribeThingRequest { ThingName = thingName! }));

        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task Call_DotSegmentLabel_IsSentEncodedAndVerifies()
    {
        var handler = FakeHandler.Always("""{"policyName":".."}""");
        using var http = new HttpClient(handler);
        var client = new IotClient(http, Options(), new FakeTimeProvider(BotocoreClientVectors.SignedAt));

        await client.GetPolicyAsync(new GetPolicyRequest { PolicyName = ".." });

        var sent = Assert.Single(handler.Requests);
        Assert.Equal("/policies/%2E%2E", sent.Uri.AbsolutePath);
        Assert.True((await VerifyAsync(sent)).Succeeded);
    }

    private static async Task<SentRequest> SendAsync(BotocoreVector vector)
    {
        var handler = FakeHandler.Always();
        using var http = new HttpClient(handler);
        var client = new IotClient(http, Options(), new FakeTimeProvider(BotocoreClientVectors.SignedAt));
        await vector.Call(client);
        return Assert.Single(handler.Requests);
    }

    private static IotClientOptions Options(string? sessionToken = null) => new()
    {
        Endpoint = BotocoreClientVectors.Endpoint,
        Region = BotocoreClientVectors.Region,
        AccessKeyId = BotocoreClientVectors.AccessKeyId,
        SecretAccessKey = BotocoreClientVectors.Secret,
        SessionToken = sessionToken,
    };

    private static string? SignWithBody(SentRequest sent, byte[] body)
    {
        using var message = new HttpRequestMessage(new HttpMethod(sent.Method), sent.Uri) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var credentials = new AwsCredentials(BotocoreClientVectors.AccessKeyId, BotocoreClientVectors.Secret, null, "test");
        RequestSigner.Sign(message, body, credentials, BotocoreClientVectors.Region, BotocoreClientVectors.SignedAt);
        return message.Headers.TryGetValues("Authorization", out var values) ? values.Single() : null;
    }

    private static ValueTask<SigV4Result> VerifyAsync(SentRequest sent)
    {
        var headers = sent.Headers.Select(h => new KeyValuePair<string, StringValues>(h.Key, h.Value)).Append(new("Host", sent.Host)).ToList();
        var request = new SigV4Request(sent.Method, sent.Uri.AbsolutePath, sent.Uri.Query.TrimStart('?'), headers, Fleetkey.Signing.SigV4.PayloadHash(sent.Body));
        return SigV4Verifier.VerifyAsync(request, "iot", BotocoreClientVectors.SignedAt, new Secrets(), CancellationToken.None);
    }

    private static string Sorted(string query) => string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

    private sealed class Secrets : ISigningSecretProvider
    {
        public ValueTask<string?> FindSecretAsync(string accessKeyId, CancellationToken cancellationToken) =>
            ValueTask.FromResult<string?>(accessKeyId == BotocoreClientVectors.AccessKeyId ? BotocoreClientVectors.Secret : null);
    }
}

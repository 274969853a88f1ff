using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Testing;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>The control plane in process: wire format, validation, authentication and listeners.</summary>
public sealed class ControlPlaneTests : IAsyncLifetime
{
    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() => _host = await FleetkeyTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task DescribeThing_Missing_AnswersAwsErrorWireFormat()
    {
        using var response = await _host.Client.GetAsync("/things/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("ResourceNotFoundException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
        Assert.True(Guid.TryParse(Assert.Single(response.Headers.GetValues("x-amzn-RequestId")), out _));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("nothing-here", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateThing_SeveralInvalidMembers_ReportsEveryViolationByField()
    {
        var response = await _host.SendAsync(HttpMethod.Post, "/things/bad%20name", new
        {
            thingTypeName = "also bad",
            attributePayload = new { attributes = new Dictionary<string, string> { ["ok"] = "v a l" } },
        });

        Assert.Equal(400, response.Status);
        Assert.Equal("InvalidRequestException", response.ErrorType);
        Assert.StartsWith("3 validation errors detected: ", response.Message, StringComparison.Ordinal);
        Assert.Contains("Value 'bad name' at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+", response.Message, StringComparison.Ordinal);
        Assert.Contains("at 'thingTypeName'", response.Message, StringComparison.Ordinal);
        Assert.Contains("at 'attributePayload.attributes.ok'", response.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("it's-caf%C3%A9", "it's-café", "'it's-café'")]
    [InlineData("say-%22hi%22%5C", "say-\"hi\"\\", "'say-\\\"hi\\\"\\\\'")]
    public async Task Error_MessageQuotingTheRefusedValue_EscapesOnlyWhatJsonRequires(string encoded, string name, string rawQuoted)
    {
        // The refused name comes back quoted, and the pattern quoted back has a +: the body once read
        // \u0027 for every apostrophe, \u002B for the + and \u00E9 for the é.
        using var response = await _host.Client.PostAsync($"/things/{encoded}", new StringContent("{}", Encoding.UTF8, "application/json"));
        var raw = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var text = Encoding.UTF8.GetString(raw);
        Assert.Contains($"Value {rawQuoted} at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", text, StringComparison.Ordinal);
        Assert.Contains($"Value '{name}' at 'thingName'", JsonNode.Parse(raw)!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/things?maxResults=0", "at 'maxResults'")]
    [InlineData("/things?maxResults=251", "less than or equal to 250")]
    [InlineData("/things?maxResults=ten", "at 'maxResults'")]
    [InlineData("/thing-groups?recursive=maybe", "at 'recursive'")]
    [InlineData("/things?nextToken=not-a-token", "nextToken")]
    public async Task List_InvalidQueryParameter_IsInvalidRequest(string path, string expected)
    {
        var response = await _host.SendAsync(HttpMethod.Get, path);

        Assert.Equal(400, response.Status);
        Assert.Equal("InvalidRequestException", response.ErrorType);
        Assert.Contains(expected, response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateThing_BodyNotJson_IsInvalidRequestAndCreatesNothing()
    {
        var response = await _host.SendAsync(HttpMethod.Post, "/things/json-check", "{ not json");

        Assert.Equal(400, response.Status);
        Assert.Equal("InvalidRequestException", response.ErrorType);
        Assert.Equal(404, (await _host.SendAsync(HttpMethod.Get, "/things/json-check")).Status);
    }

    [Fact]
    public async Task Request_BodyOverLimit_IsRejectedWith413()
    {
        var big = new string('a', 1024 * 1024 + 1);
        var response = await _host.SendAsync(HttpMethod.Post, "/things/too-big", "{\"x\":\"" + big + "\"}");

        Assert.Equal(413, response.Status);
        Assert.Equal("RequestEntityTooLargeException", response.ErrorType);
    }

    [Fact]
    public async Task Request_UnknownRoute_IsUnknownOperation()
    {
        var response = await _host.SendAsync(HttpMethod.Get, "/no-such-operation");

        Assert.Equal(404, response.Status);
        Assert.Equal("UnknownOperationException", response.ErrorType);
    }

    [Fact]
    public async Task Request_Unsigned_IsMissingAuthenticationToken()
    {
        using var response = await _host.Anonymous.GetAsync("/things");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("MissingAuthenticationTokenException", Assert.Single(response.Headers.GetValues("x-amzn-ErrorType")));
    }

    [Fact]
    public async Task Health_Unsigned_IsOk()
    {
        using var response = await _host.Anonymous.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_WrongSecret_IsInvalidSignature()
    {
        using var client = _host.CreateClient(new SigV4Signer(_host.AccessKeyId, "wrong-secret-wrong-secret", FleetkeyTestHost.Region, () => _host.Time.GetUtcNow()));

        var response = await _host.SendAsync(HttpMethod.Get, "/things", client: client);

        Assert.Equal(403, response.Status);
        Assert.Equal("InvalidSignatureException", response.ErrorType);
        Assert.DoesNotContain("wrong-secret", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnknownAccessKey_IsUnrecognizedClient()
    {
        using var client = _host.CreateClient(new SigV4Signer("AKIAUNKNOWNKEY000000", _host.SecretAccessKey, FleetkeyTestHost.Region, () => _host.Time.GetUtcNow()));

        var response = await _host.SendAsync(HttpMethod.Get, "/things", client: client);

        Assert.Equal(403, response.Status);
        Assert.Equal("UnrecognizedClientException", response.ErrorType);
    }

    [Fact]
    public async Task Request_SignedSixMinutesAgo_IsInvalidSignatureExpired()
    {
        var signedAt = _host.Time.GetUtcNow().AddMinutes(-6);
        using var client = _host.CreateClient(new SigV4Signer(_host.AccessKeyId, _host.SecretAccessKey, FleetkeyTestHost.Region, () => signedAt));

        var response = await _host.SendAsync(HttpMethod.Get, "/things", client: client);

        Assert.Equal(403, response.Status);
        Assert.Equal("InvalidSignatureException", response.ErrorType);
        Assert.Contains("Signature expired", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_SignedWithContentHashHeader_IsAccepted()
    {
        using var client = _host.CreateClient(new SigV4Signer(_host.AccessKeyId, _host.SecretAccessKey, FleetkeyTestHost.Region, () => _host.Time.GetUtcNow()) { SignContentHash = true });

        var response = await _host.SendAsync(HttpMethod.Post, "/things/hashed", new { attributePayload = new { attributes = new { a = "1" } } }, client);

        Assert.Equal(200, response.Status);
    }

    [Fact]
    public async Task Arns_UseRegionOfSignatureAndConfiguredAccount()
    {
        using var client = _host.CreateClient(new SigV4Signer(_host.AccessKeyId, _host.SecretAccessKey, "ap-south-1", () => _host.Time.GetUtcNow()));

        var response = await _host.SendAsync(HttpMethod.Post, "/things/regional", new { }, client);

        Assert.Equal("arn:aws:iot:ap-south-1:123456789012:thing/regional", response.EnsureOk().Body!["thingArn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Timestamps_AreEpochSecondsNumbers()
    {
        await _host.SendAsync(HttpMethod.Post, "/thing-types/Clock", new { }).ContinueWith(t => t.Result.EnsureOk());

        var described = (await _host.SendAsync(HttpMethod.Get, "/thing-types/Clock")).EnsureOk();

        var creation = described.Body!["thingTypeMetadata"]!["creationDate"]!.GetValue<decimal>();
        Assert.Equal(_host.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000m, creation);
    }

    // TestServer does not keep the raw request target, so the percent-encoded form (%3A, as boto3
    // sends it) is covered by the compatibility suite against a real listener.
    [Fact]
    public async Task ThingName_WithColon_IsAPathLabel()
    {
        (await _host.SendAsync(HttpMethod.Post, "/things/plant:line-1", new { })).EnsureOk();

        var described = (await _host.SendAsync(HttpMethod.Get, "/things/plant:line-1")).EnsureOk();

        Assert.Equal("plant:line-1", described.Body!["thingName"]!.GetValue<string>());
        Assert.Equal("plant:line-1", described.Body!["defaultClientId"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListThings_WalkingTokens_ReturnsEveryThingOnceInOrder()
    {
        for (var i = 0; i < 12; i++)
        {
            (await _host.SendAsync(HttpMethod.Post, $"/things/walk-{i:D2}", new { attributePayload = new { attributes = new { batch = "walk" } } })).EnsureOk();
        }

        var names = new List<string>();
        string? token = null;
        do
        {
            var path = "/things?attributeName=batch&attributeValue=walk&maxResults=5" + (token is null ? string.Empty : "&nextToken=" + Uri.EscapeDataString(token));
            var page = (await _host.SendAsync(HttpMethod.Get, path)).EnsureOk().Body!;
            names.AddRange(page["things"]!.AsArray().Select(t => t!["thingName"]!.GetValue<string>()));
            token = page["nextToken"]?.GetValue<string>();
        }
        while (token is not null);

        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"walk-{i:D2}"), names);
    }

    [Fact]
    public async Task DeviceListener_DoesNotServeControlPlane()
    {
        var ports = new Fleetkey.Hosting.ListenerPorts(6081);
        var reached = false;
        var middleware = new Fleetkey.Hosting.ListenerSplitMiddleware(_ => { reached = true; return Task.CompletedTask; }, ports);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.LocalPort = 6081;
        context.Request.Path = "/things";
        context.Request.Headers.Authorization = "AWS4-HMAC-SHA256 Credential=x";

        await middleware.InvokeAsync(context);

        Assert.False(reached);
        Assert.Equal(404, context.Response.StatusCode);

        context.Request.Path = "/health";
        await middleware.InvokeAsync(context);
        Assert.True(reached);
    }

    [Theory]
    [InlineData(6081, "/device/register", true)]
    [InlineData(6081, "/device/anything", true)]
    [InlineData(6081, "/devices", false)]
    [InlineData(6081, "/ca.pem", false)]
    [InlineData(6081, "/metrics", false)]
    [InlineData(6081, "/enrollments/SN-1", false)]
    [InlineData(6080, "/device/register", false)]
    [InlineData(6080, "/things", true)]
    [InlineData(6081, "/crl/x.crl", true)]
    [InlineData(6081, "/ocsp", true)]
    [InlineData(6081, "/ocsp/MAA=", true)]
    [InlineData(6081, "/ca/x.cer", true)]
    [InlineData(6081, "/cacertificate/x", false)]
    [InlineData(6080, "/crl/x.crl", false)]
    [InlineData(6080, "/ocsp", false)]
    [InlineData(6080, "/ca/x.cer", false)]
    [InlineData(6080, "/ca.pem", true)]
    public async Task ListenerSplit_DeviceRoutesOnlyOnTheDeviceListener(int localPort, string path, bool served)
    {
        var reached = false;
        var middleware = new Fleetkey.Hosting.ListenerSplitMiddleware(_ => { reached = true; return Task.CompletedTask; }, new Fleetkey.Hosting.ListenerPorts(6081));
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Connection.LocalPort = localPort;
        context.Request.Path = path;

        await middleware.InvokeAsync(context);

        Assert.Equal(served, reached);
        Assert.Equal(served ? 200 : 404, context.Response.StatusCode);
    }

    [Fact]
    public async Task UpdateThingGroup_MissingRequiredProperties_NamesTheMember()
    {
        (await _host.SendAsync(HttpMethod.Post, "/thing-groups/needs-props", new { })).EnsureOk();

        var response = await _host.SendAsync(HttpMethod.Patch, "/thing-groups/needs-props", new { expectedVersion = 1 });

        Assert.Equal(400, response.Status);
        Assert.Contains("Value null at 'thingGroupProperties' failed to satisfy constraint: Member must not be null", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagResource_ThingGroupByArn_ListsTags()
    {
        (await _host.SendAsync(HttpMethod.Post, "/thing-groups/tagged", new { })).EnsureOk();
        var arn = $"arn:aws:iot:{FleetkeyTestHost.Region}:123456789012:thinggroup/tagged";

        (await _host.SendAsync(HttpMethod.Post, "/tags", new { resourceArn = arn, tags = new[] { new { Key = "env", Value = "prod" } } })).EnsureOk();
        var listed = (await _host.SendAsync(HttpMethod.Get, "/tags?resourceArn=" + Uri.EscapeDataString(arn))).EnsureOk();

        var tag = Assert.Single(listed.Body!["tags"]!.AsArray())!;
        Assert.Equal("env", tag["Key"]!.GetValue<string>());
        Assert.Equal("prod", tag["Value"]!.GetValue<string>());
    }
}

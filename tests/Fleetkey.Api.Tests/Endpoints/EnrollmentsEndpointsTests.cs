using System.Text.Json.Nodes;
using Fleetkey.Services.Provisioning;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>The enrollment routes through the whole in-process control plane (SigV4, AWS errors, the real store).</summary>
public sealed class EnrollmentsEndpointsTests : IAsyncLifetime
{
    private const string ArnPrefix = "arn:aws:iot:eu-west-1:123456789012:";
    private readonly InMemoryTemplateResolver _templates = new InMemoryTemplateResolver().Add("factory").Add("other").Add("jitp", "JITP");
    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() =>
        _host = await FleetkeyTestHost.StartAsync(b => b.Services.AddSingleton<IProvisioningTemplateResolver>(_templates));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<AwsResponse> SendAsync(HttpMethod method, string path, object? body = null) => _host.SendAsync(method, path, body);

    private static string Text(AwsResponse response, string member) => response.Body![member]!.GetValue<string>();

    [Fact]
    public async Task EnrollmentGroup_Lifecycle_KeyShownOnlyAtCreation()
    {
        var created = await SendAsync(HttpMethod.Post, "/enrollment-groups/line-1", new
        {
            templateName = "factory",
            serialNumberPattern = "SN-[0-9]{4}",
            parameters = new Dictionary<string, string> { ["Site"] = "plant-1" },
        });

        created.EnsureOk();
        Assert.Equal("line-1", Text(created, "enrollmentGroupName"));
        Assert.Equal(ArnPrefix + "enrollmentgroup/line-1", Text(created, "enrollmentGroupArn"));
        var groupKey = Text(created, "groupKey");
        Assert.Equal(32, Convert.FromBase64String(groupKey).Length);

        var described = (await SendAsync(HttpMethod.Get, "/enrollment-groups/line-1")).EnsureOk();
        var body = described.Body!.AsObject();
        Assert.Equal(("factory", "SN-[0-9]{4}", false, true, "plant-1"), (Text(described, "templateName"), Text(described, "serialNumberPattern"), body["allowReprovisioning"]!.GetValue<bool>(), body["enabled"]!.GetValue<bool>(), body["parameters"]!["Site"]!.GetValue<string>()));
        Assert.True(body["creationDate"]!.GetValue<double>() > 1.7e9, "creationDate is epoch seconds");
        Assert.DoesNotContain(groupKey, body.ToJsonString(), StringComparison.Ordinal);
        Assert.False(body.ContainsKey("groupKey"));

        // The device endpoint's resolver sees the group, with the secret derived from the key it printed.
        var resolver = _host.Services.GetRequiredService<IDeviceEnrollmentResolver>();
        var resolved = Assert.Single(await resolver.ResolveAsync("SN-0042", CancellationToken.None));
        Assert.Equal(EnrollmentSecrets.DeriveDeviceSecret(Convert.FromBase64String(groupKey), "SN-0042"), resolved.DeviceSecret);
        Assert.Equal("line-1", resolved.EnrollmentGroupName);

        var patched = (await SendAsync(HttpMethod.Patch, "/enrollment-groups/line-1", new { enabled = false, allowReprovisioning = true, templateName = "other", serialNumberPattern = (string?)null })).EnsureOk();
        Assert.False(patched.Body!["enabled"]!.GetValue<bool>());
        Assert.Null(patched.Body["serialNumberPattern"]);
        Assert.Equal("other", Text(patched, "templateName"));
        Assert.DoesNotContain(groupKey, patched.Body.ToJsonString(), StringComparison.Ordinal);

        (await SendAsync(HttpMethod.Delete, "/enrollment-groups/line-1")).EnsureOk();
        var gone = await SendAsync(HttpMethod.Get, "/enrollment-groups/line-1");
        Assert.Equal((404, "ResourceNotFoundException"), (gone.Status, gone.ErrorType));
        Assert.Equal("Enrollment group line-1 does not exist.", gone.Message);
    }

    [Fact]
    public async Task Enrollment_Lifecycle_SecretShownOnlyAtCreation()
    {
        var created = (await SendAsync(HttpMethod.Post, "/enrollments/SN-0001", new { templateName = "factory", allowReprovisioning = true })).EnsureOk();

        Assert.Equal("SN-0001", Text(created, "serialNumber"));
        Assert.Equal(ArnPrefix + "enrollment/SN-0001", Text(created, "enrollmentArn"));
        var secret = Convert.FromBase64String(Text(created, "deviceSecret"));
        Assert.Equal(32, secret.Length);

        var described = (await SendAsync(HttpMethod.Get, "/enrollments/SN-0001")).EnsureOk();
        Assert.True(described.Body!["allowReprovisioning"]!.GetValue<bool>());
        Assert.Empty(described.Body["parameters"]!.AsObject());
        Assert.False(described.Body.AsObject().ContainsKey("deviceSecret"));
        Assert.DoesNotContain(Text(created, "deviceSecret"), described.Body.ToJsonString(), StringComparison.Ordinal);

        var resolved = Assert.Single(await _host.Services.GetRequiredService<IDeviceEnrollmentResolver>().ResolveAsync("SN-0001", CancellationToken.None));
        Assert.Equal(secret, resolved.DeviceSecret);

        var patched = (await SendAsync(HttpMethod.Patch, "/enrollments/SN-0001", new { parameters = new Dictionary<string, string> { ["Line"] = "2" }, enabled = false })).EnsureOk();
        Assert.Equal("2", patched.Body!["parameters"]!["Line"]!.GetValue<string>());
        Assert.False(patched.Body["enabled"]!.GetValue<bool>());

        (await SendAsync(HttpMethod.Delete, "/enrollments/SN-0001")).EnsureOk();
        var gone = await SendAsync(HttpMethod.Delete, "/enrollments/SN-0001");
        Assert.Equal((404, "ResourceNotFoundException"), (gone.Status, gone.ErrorType));
    }

    [Fact]
    public async Task Create_SignedForARegion_EnrollmentKeepsItForTheDeviceEndpoint()
    {
        // Issue 16, defect 7: the device endpoint (no SigV4, no region) gave ARNs in us-east-1 while the
        // enrollment was made, and shown, in the caller's region.
        (await SendAsync(HttpMethod.Post, "/enrollments/SN-0100", new { templateName = "factory" })).EnsureOk();
        (await SendAsync(HttpMethod.Post, "/enrollment-groups/regional", new { templateName = "factory", serialNumberPattern = "RG-[0-9]+" })).EnsureOk();
        var resolver = _host.Services.GetRequiredService<IDeviceEnrollmentResolver>();

        var individual = Assert.Single(await resolver.ResolveAsync("SN-0100", CancellationToken.None));
        var grouped = Assert.Single(await resolver.ResolveAsync("RG-7", CancellationToken.None));

        Assert.Equal(ArnPrefix + "enrollment/SN-0100", individual.EnrollmentArn);
        Assert.Equal(ArnPrefix + "enrollmentgroup/regional", grouped.EnrollmentArn);

        // Shown in the region it was made in, whatever region a later caller signs for.
        using var otherRegion = _host.CreateClient(new SigV4Signer(_host.AccessKeyId, _host.SecretAccessKey, "ap-south-1", () => _host.Time.GetUtcNow()));
        var described = (await _host.SendAsync(HttpMethod.Get, "/enrollments/SN-0100", client: otherRegion)).EnsureOk();
        Assert.Equal(ArnPrefix + "enrollment/SN-0100", Text(described, "enrollmentArn"));
    }

    [Fact]
    public async Task Create_Twice_IsResourceAlreadyExists409()
    {
        (await SendAsync(HttpMethod.Post, "/enrollment-groups/dup", new { templateName = "factory" })).EnsureOk();
        (await SendAsync(HttpMethod.Post, "/enrollments/dup", new { templateName = "factory" })).EnsureOk();

        var group = await SendAsync(HttpMethod.Post, "/enrollment-groups/dup", new { templateName = "factory" });
        var enrollment = await SendAsync(HttpMethod.Post, "/enrollments/dup", new { templateName = "factory" });

        Assert.Equal((409, "ResourceAlreadyExistsException"), (group.Status, group.ErrorType));
        Assert.Equal(ArnPrefix + "enrollmentgroup/dup", group.Body!["resourceArn"]!.GetValue<string>());
        Assert.Equal((409, "ResourceAlreadyExistsException"), (enrollment.Status, enrollment.ErrorType));
    }

    [Fact]
    public async Task Create_UnknownOrJitpTemplate_IsNotFoundOrInvalid()
    {
        var missing = await SendAsync(HttpMethod.Post, "/enrollment-groups/g", new { templateName = "missing" });
        var jitp = await SendAsync(HttpMethod.Post, "/enrollments/SN-1", new { templateName = "jitp" });

        Assert.Equal((404, "ResourceNotFoundException", "Provisioning template missing does not exist."), (missing.Status, missing.ErrorType, missing.Message));
        Assert.Equal((400, "InvalidRequestException"), (jitp.Status, jitp.ErrorType));
    }

    public static TheoryData<string, string, string, string[]> BadRequests => new()
    {
        { "POST", "/enrollment-groups/bad%20name", """{"serialNumberPattern":"(","parameters":{"SerialNumber":"x"}}""", ["'enrollmentGroupName'", "'templateName'", "'serialNumberPattern'", "'SerialNumber' at 'parameters'"] },
        { "POST", "/enrollment-groups/g", """{"templateName":7,"allowReprovisioning":"yes","parameters":{"a":1}}""", ["'templateName'", "'allowReprovisioning'", "'parameters.a'"] },
        { "POST", "/enrollment-groups/g", """{"templateName":"factory","serialPattern":"x"}""", ["'serialPattern' is not a member"] },
        { "POST", "/enrollments/SN-1", """{"templateName":"factory","serialNumberPattern":"x"}""", ["'serialNumberPattern' is not a member"] },
        { "POST", "/enrollments/SN-1", """{"templateName":"factory",""", ["not valid JSON"] },
        { "POST", "/enrollments/SN-1", """["factory"]""", ["must be a JSON object"] },
        { "POST", "/enrollments/SN-1", "", ["Value null at 'templateName'"] },
        { "PATCH", "/enrollments/SN.1", """{"enabled":"no"}""", ["'enabled'"] },
        { "GET", "/enrollments?maxResults=0", "", ["'maxResults'"] },
        { "GET", "/enrollment-groups?maxResults=ten", "", ["'maxResults'"] },
        { "GET", "/enrollment-groups?nextToken=garbage", "", ["nextToken"] },
        { "GET", "/enrollments/SN-1", """{"x":1}""", ["'x' is not a member"] },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_IsInvalidRequestNamingEveryField(string method, string path, string body, string[] expected)
    {
        var response = await _host.SendAsync(new HttpMethod(method), path, body.Length == 0 ? null : body);

        Assert.Equal((400, "InvalidRequestException"), (response.Status, response.ErrorType));
        foreach (var part in expected)
        {
            Assert.Contains(part, response.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Routes_Unsigned_AreRefusedLikeEveryControlPlaneRoute()
    {
        using var response = await _host.Anonymous.PostAsync("/enrollments/SN-1", new StringContent("""{"templateName":"factory"}"""));

        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("MissingAuthenticationTokenException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal(404, (await SendAsync(HttpMethod.Get, "/enrollments/SN-1")).Status);
    }

    [Fact]
    public async Task Route_UnknownMethod_IsUnknownOperation()
    {
        var response = await SendAsync(HttpMethod.Put, "/enrollments/SN-1", new { templateName = "factory" });

        Assert.Equal((404, "UnknownOperationException"), (response.Status, response.ErrorType));
    }

    [Fact]
    public async Task List_Paged_WalksEveryItemOnce()
    {
        foreach (var serial in new[] { "SN-3", "SN-1", "SN-2" })
        {
            (await SendAsync(HttpMethod.Post, "/enrollments/" + serial, new { templateName = "factory" })).EnsureOk();
            (await SendAsync(HttpMethod.Post, "/enrollment-groups/g" + serial, new { templateName = "factory" })).EnsureOk();
        }

        async Task<List<string>> WalkAsync(string path, string items, string name)
        {
            var seen = new List<string>();
            string? token = null;
            do
            {
                var page = (await SendAsync(HttpMethod.Get, $"{path}?maxResults=2{(token is null ? string.Empty : "&nextToken=" + Uri.EscapeDataString(token))}")).EnsureOk();
                seen.AddRange(page.Body![items]!.AsArray().Select(i => i![name]!.GetValue<string>()));
                Assert.True(page.Body[items]!.AsArray().Count <= 2);
                token = page.Body["nextToken"]?.GetValue<string>();
            }
            while (token is not null);
            return seen;
        }

        Assert.Equal(["SN-1", "SN-2", "SN-3"], await WalkAsync("/enrollments", "enrollments", "serialNumber"));
        Assert.Equal(["gSN-1", "gSN-2", "gSN-3"], await WalkAsync("/enrollment-groups", "enrollmentGroups", "enrollmentGroupName"));
        var all = (await SendAsync(HttpMethod.Get, "/enrollment-groups")).EnsureOk().Body!;
        Assert.All(all["enrollmentGroups"]!.AsArray(), g => Assert.False(g!.AsObject().ContainsKey("groupKey")));
    }

    [Fact]
    public async Task Patch_Nothing_ReturnsTheEnrollmentUnchangedButForTheDate()
    {
        (await SendAsync(HttpMethod.Post, "/enrollments/SN-1", new { templateName = "factory", allowReprovisioning = true })).EnsureOk();
        _host.Time.Advance(TimeSpan.FromMinutes(1));

        var patched = (await SendAsync(HttpMethod.Patch, "/enrollments/SN-1", new JsonObject())).EnsureOk().Body!;

        Assert.Equal(("factory", true, true), (patched["templateName"]!.GetValue<string>(), patched["enabled"]!.GetValue<bool>(), patched["allowReprovisioning"]!.GetValue<bool>()));
        Assert.Equal(60, patched["lastModifiedDate"]!.GetValue<double>() - patched["creationDate"]!.GetValue<double>(), precision: 3);
    }
}

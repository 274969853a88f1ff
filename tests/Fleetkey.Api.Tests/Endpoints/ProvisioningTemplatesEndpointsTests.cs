using Fleetkey.Services.Provisioning;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Fleetkey.Api.Tests.Endpoints;

/// <summary>The provisioning-template operations through the in-process control plane: binding, wire shapes, DI.</summary>
public sealed class ProvisioningTemplatesEndpointsTests : IAsyncLifetime
{
    private const string Body = """{"Parameters":{"SerialNumber":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"SerialNumber"}}}}}""";
    private const string RoleArn = "arn:aws:iam::000000000000:role/Provisioning";

    private FleetkeyTestHost _host = null!;

    public async Task InitializeAsync() => _host = await FleetkeyTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<AwsResponse> CreateAsync(string name) =>
        _host.SendAsync(HttpMethod.Post, "/provisioning-templates", new { templateName = name, templateBody = Body, provisioningRoleArn = RoleArn });

    [Fact]
    public async Task CreateThenDescribeVersion_VersionIdIsAnIntegerUriLabelAndJsonNumber()
    {
        var created = (await CreateAsync("t1")).EnsureOk().Body!;
        Assert.Equal(1, created["defaultVersionId"]!.GetValue<int>());

        var version = (await _host.SendAsync(HttpMethod.Get, "/provisioning-templates/t1/versions/1")).EnsureOk().Body!;

        Assert.Equal(System.Text.Json.JsonValueKind.Number, version["versionId"]!.GetValueKind());
        Assert.Equal(1, version["versionId"]!.GetValue<int>());
        Assert.True(version["isDefaultVersion"]!.GetValue<bool>());
        Assert.Equal(Body, version["templateBody"]!.GetValue<string>());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, version["creationDate"]!.GetValueKind());
    }

    [Theory]
    [InlineData("GET", "/provisioning-templates/t1/versions/one")]
    [InlineData("DELETE", "/provisioning-templates/t1/versions/1.5")]
    public async Task VersionId_NotAnInteger_IsInvalidRequestNamingTheMember(string method, string path)
    {
        (await CreateAsync("t1")).EnsureOk();

        var response = await _host.SendAsync(new HttpMethod(method), path);

        Assert.Equal(400, response.Status);
        Assert.Equal("InvalidRequestException", response.ErrorType);
        Assert.Contains("at 'versionId'", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_MissingRequiredMembers_ReportsEveryOne()
    {
        var response = await _host.SendAsync(HttpMethod.Post, "/provisioning-templates", new { templateName = "bad.name" });

        Assert.Equal(400, response.Status);
        Assert.Equal("InvalidRequestException", response.ErrorType);
        Assert.StartsWith("3 validation errors detected: ", response.Message, StringComparison.Ordinal);
        Assert.Contains("at 'templateBody'", response.Message, StringComparison.Ordinal);
        Assert.Contains("at 'provisioningRoleArn'", response.Message, StringComparison.Ordinal);
        Assert.Contains("at 'templateName'", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_SummaryHasTheModelsMembersOnly()
    {
        (await CreateAsync("t1")).EnsureOk();

        var listed = (await _host.SendAsync(HttpMethod.Get, "/provisioning-templates?maxResults=1")).EnsureOk().Body!;

        var summary = Assert.Single(listed["templates"]!.AsArray())!.AsObject();
        Assert.Equal(
            ["creationDate", "enabled", "lastModifiedDate", "templateArn", "templateName", "type"],
            summary.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal($"arn:aws:iot:{FleetkeyTestHost.Region}:123456789012:provisioningtemplate/t1", summary["templateArn"]!.GetValue<string>());
        Assert.Null(listed["nextToken"]);
    }

    [Fact]
    public async Task Resolver_FromTheContainer_ResolvesStoredTemplateInTheDefaultScope()
    {
        (await CreateAsync("t1")).EnsureOk();
        (await _host.SendAsync(HttpMethod.Patch, "/provisioning-templates/t1", new { enabled = true })).EnsureOk();
        var resolver = _host.Services.GetRequiredService<IProvisioningTemplateResolver>();

        var resolved = await resolver.ResolveAsync("t1", CancellationToken.None);

        Assert.NotNull(resolved);
        Assert.Equal((Body, true, "FLEET_PROVISIONING"), (resolved.TemplateBody, resolved.Enabled, resolved.TemplateType));
        Assert.Equal("arn:aws:iot:us-east-1:123456789012:provisioningtemplate/t1", resolved.TemplateArn);
        Assert.Null(await resolver.ResolveAsync("t2", CancellationToken.None));
    }
}

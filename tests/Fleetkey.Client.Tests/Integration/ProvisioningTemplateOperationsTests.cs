using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>The provisioning-template operations through <see cref="IotClient"/> against a real <c>fleetkey serve</c>.</summary>
public sealed class ProvisioningTemplateOperationsTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private const string RoleArn = "arn:aws:iam::000000000000:role/FleetkeyProvisioning";
    private const string OtherBody = """{"Parameters":{"SerialNumber":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"SerialNumber"}}}}}""";

    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task ProvisioningTemplates_CreateDescribeVersionsUpdateListDelete_RoundTrip()
    {
        var created = await _client.CreateProvisioningTemplateAsync(new CreateProvisioningTemplateRequest
        {
            TemplateName = "seed-template",
            TemplateBody = DeviceRegistrar.SeedTemplateBody,
            ProvisioningRoleArn = RoleArn,
            Description = "the seed's template",
            Tags = [new Tag { Key = "owner", Value = "factory" }],
        });
        Assert.Equal((FleetkeyServer.Arn("provisioningtemplate", "seed-template"), "seed-template", 1), (created.TemplateArn, created.TemplateName, created.DefaultVersionId));
        var tags = await _client.ListTagsForResourceAsync(new ListTagsForResourceRequest { ResourceArn = created.TemplateArn! });
        Assert.Equal(["owner=factory"], tags.Tags!.Select(t => $"{t.Key}={t.Value}"));

        var described = await _client.DescribeProvisioningTemplateAsync(new DescribeProvisioningTemplateRequest { TemplateName = "seed-template" });
        Assert.Equal(DeviceRegistrar.SeedTemplateBody, described.TemplateBody);
        Assert.Equal((false, "FLEET_PROVISIONING", RoleArn, "the seed's template", 1), (described.Enabled, described.Type, described.ProvisioningRoleArn, described.Description, described.DefaultVersionId));
        Assert.True(described.CreationDate > DateTimeOffset.UtcNow.AddMinutes(-5));

        var version = await _client.CreateProvisioningTemplateVersionAsync(new CreateProvisioningTemplateVersionRequest { TemplateName = "seed-template", TemplateBody = OtherBody, SetAsDefault = true });
        Assert.Equal((2, true), (version.VersionId, version.IsDefaultVersion));
        var v2 = await _client.DescribeProvisioningTemplateVersionAsync(new DescribeProvisioningTemplateVersionRequest { TemplateName = "seed-template", VersionId = 2 });
        Assert.Equal((OtherBody, true), (v2.TemplateBody, v2.IsDefaultVersion));
        var versions = await _client.ListProvisioningTemplateVersionsAsync(new ListProvisioningTemplateVersionsRequest { TemplateName = "seed-template" });
        Assert.Equal(["1:False", "2:True"], versions.Versions!.Select(v => $"{v.VersionId}:{v.IsDefaultVersion}"));
        Assert.Equal(2, await _client.ListAllProvisioningTemplateVersionsAsync(new ListProvisioningTemplateVersionsRequest { TemplateName = "seed-template", MaxResults = 1 }).CountAsync());

        await Assert.ThrowsAsync<DeleteConflictException>(() => _client.DeleteProvisioningTemplateVersionAsync(new DeleteProvisioningTemplateVersionRequest { TemplateName = "seed-template", VersionId = 2 }));
        await _client.UpdateProvisioningTemplateAsync(new UpdateProvisioningTemplateRequest { TemplateName = "seed-template", DefaultVersionId = 1, Enabled = true });
        await _client.DeleteProvisioningTemplateVersionAsync(new DeleteProvisioningTemplateVersionRequest { TemplateName = "seed-template", VersionId = 2 });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeProvisioningTemplateVersionAsync(new DescribeProvisioningTemplateVersionRequest { TemplateName = "seed-template", VersionId = 2 }));

        await _client.CreateProvisioningTemplateAsync(new CreateProvisioningTemplateRequest { TemplateName = "a-jitp", TemplateBody = OtherBody, ProvisioningRoleArn = RoleArn, Type = "JITP", Enabled = true });
        var listed = await _client.ListProvisioningTemplatesAsync(new ListProvisioningTemplatesRequest());
        Assert.Equal(["a-jitp:JITP:True", "seed-template:FLEET_PROVISIONING:True"], listed.Templates!.Select(t => $"{t.TemplateName}:{t.Type}:{t.Enabled}"));
        Assert.Equal(2, await _client.ListAllProvisioningTemplatesAsync(new ListProvisioningTemplatesRequest { MaxResults = 1 }).CountAsync());

        var invalid = await Assert.ThrowsAsync<InvalidRequestException>(() => _client.CreateProvisioningTemplateAsync(
            new CreateProvisioningTemplateRequest { TemplateName = "broken", TemplateBody = """{"Resources":{"x":{"Type":"AWS::S3::Bucket"}}}""", ProvisioningRoleArn = RoleArn }));
        Assert.Contains("Resources.x.Type", invalid.Message, StringComparison.Ordinal);

        await _client.DeleteProvisioningTemplateAsync(new DeleteProvisioningTemplateRequest { TemplateName = "seed-template" });
        await _client.DeleteProvisioningTemplateAsync(new DeleteProvisioningTemplateRequest { TemplateName = "a-jitp" });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeProvisioningTemplateAsync(new DescribeProvisioningTemplateRequest { TemplateName = "seed-template" }));
        Assert.Empty((await _client.ListProvisioningTemplatesAsync()).Templates ?? []);
    }
}

using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Fleetkey.Testing;
using Xunit;
using static Fleetkey.Services.Provisioning.ProvisioningTemplateService;

namespace Fleetkey.Services.Tests.Provisioning;

public sealed class ProvisioningTemplateServiceTests : IAsyncLifetime
{
    private const string RoleArn = "arn:aws:iam::123456789012:role/Provisioning";
    private const string HookArn = "arn:aws:lambda:eu-west-1:123456789012:function:pre-provision";
    private const string OtherBody = """{"Parameters":{"SerialNumber":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"SerialNumber"}}}}}""";
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly string SeedBody = RepositoryFiles.SeedTemplateBody;

    private readonly ServiceDatabase _db = new();
    private ProvisioningTemplateService _templates = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _templates = new ProvisioningTemplateService(_db.Store, _db.Time);
    }

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private Task<TemplateWithBody> CreateAsync(string name = "seed", string? body = null, string? type = null, Hook? hook = null, IReadOnlyList<Tag>? tags = null, bool? enabled = null) =>
        _templates.CreateAsync(new NewTemplate(name, body ?? SeedBody, RoleArn, "the seed's template", enabled, type, hook, tags), None);

    private async Task<IReadOnlyList<long>> VersionIdsAsync(string name) =>
        (await _templates.ListVersionsAsync(name, new PageRequest(null, 100), None)).Versions.Items.Select(v => v.VersionId).ToArray();

    // ---- CreateAsync / DescribeAsync ----

    [Fact]
    public async Task CreateAsync_SeedTemplate_StoresVersionOneDisabledFleetProvisioning()
    {
        var created = await CreateAsync(tags: [new Tag("owner", "factory")]);

        Assert.Equal((1L, 2L), (created.Template.DefaultVersionId, created.Template.NextVersionId));
        var described = await _templates.DescribeAsync("seed", None);
        Assert.Equal(SeedBody, described.DefaultVersion.Body);
        Assert.False(described.Template.Enabled);
        Assert.Equal(ProvisioningTemplateType.FleetProvisioning, described.Template.Type);
        Assert.Equal((RoleArn, "the seed's template"), (described.Template.ProvisioningRoleArn, described.Template.Description));
        Assert.Equal((ServiceDatabase.Start, ServiceDatabase.Start), (described.Template.CreatedAt, described.Template.LastModifiedAt));
        Assert.Equal([new Tag("owner", "factory")], await _db.StoredTagsAsync(TagKind, "seed"));
    }

    [Fact]
    public async Task CreateAsync_DuplicateName_IsResourceAlreadyExists()
    {
        await CreateAsync();

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => CreateAsync(body: OtherBody), "seed");
        Assert.Equal(SeedBody, (await _templates.DescribeAsync("seed", None)).DefaultVersion.Body);
    }

    [Fact]
    public async Task CreateAsync_InvalidBody_InvalidRequestNamingEveryProblemAndNothingStored()
    {
        const string body = """{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"Colour":"red"}},"bucket":{"Type":"AWS::S3::Bucket"}}}""";

        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => CreateAsync(body: body));

        Assert.Contains("Resources.thing.Properties.Colour", error.Message, StringComparison.Ordinal);
        Assert.Contains("Resources.thing.Properties.ThingName: ThingName is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("Resources.bucket.Type", error.Message, StringComparison.Ordinal);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DescribeAsync("seed", None));
    }

    public static TheoryData<string, string, string?, string?, string> InvalidCreations => new()
    {
        // name, role, type, hook target, expected message part
        { "has space", RoleArn, null, null, "templateName" },
        { new string('a', 37), RoleArn, null, null, "templateName" },
        { "t", "arn:aws:iam::123456789012:user/someone", null, null, "provisioningRoleArn" },
        { "t", RoleArn, "CLAIM", null, "type 'CLAIM'" },
        { "t", RoleArn, "JITP", HookArn, "only supported by templates of type FLEET_PROVISIONING" },
        { "t", RoleArn, null, "arn:aws:sns:eu-west-1:123456789012:topic", "neither a Lambda function ARN nor an http(s) URL" },
        { "t", RoleArn, null, "ftp://hooks.example.com/hook", "neither a Lambda function ARN nor an http(s) URL" },
    };

    [Theory]
    [MemberData(nameof(InvalidCreations))]
    public async Task CreateAsync_InvalidInput_InvalidRequest(string name, string role, string? type, string? hookTarget, string messagePart)
    {
        var request = new NewTemplate(name, SeedBody, role, null, null, type, hookTarget is null ? null : new Hook(hookTarget, null));

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.CreateAsync(request, None), messagePart);
    }

    [Theory]
    [InlineData("https://hooks.example.com/provision?key=1")]
    [InlineData("http://127.0.0.1:9000/hook")]
    public async Task CreateAsync_HookIsAnHttpUrl_KeptAsTheTarget(string url)
    {
        var created = await _templates.CreateAsync(new NewTemplate("hooked", SeedBody, RoleArn, null, null, null, new Hook(url, null)), None);

        Assert.Equal(url, created.Template.HookTargetArn);
    }

    [Fact]
    public async Task CreateAsync_SeveralProblems_ReportsThemAllAtOnce()
    {
        var request = new NewTemplate("bad name", """{"Resources":{"x":{"Type":"AWS::S3::Bucket"}}}""", "not-an-arn", null, null, "CLAIM");

        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.CreateAsync(request, None));

        Assert.Contains("Resources.x.Type", error.Message, StringComparison.Ordinal);
        Assert.Contains("templateName", error.Message, StringComparison.Ordinal);
        Assert.Contains("provisioningRoleArn", error.Message, StringComparison.Ordinal);
        Assert.Contains("type 'CLAIM'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAsync_HookWithoutPayloadVersion_GetsAwsDefault()
    {
        await CreateAsync(hook: new Hook(HookArn, null));

        var template = (await _templates.DescribeAsync("seed", None)).Template;
        Assert.Equal((HookArn, DefaultHookPayloadVersion), (template.HookTargetArn, template.HookPayloadVersion));
    }

    [Fact]
    public async Task CreateAsync_TooManyTags_LimitExceeded()
    {
        var tags = Enumerable.Range(0, NameRules.MaxTagsPerResource + 1).Select(i => new Tag($"k{i}", "v")).ToArray();

        await ServiceAssert.ThrowsAsync(ErrorCode.LimitExceeded, () => CreateAsync(tags: tags));
    }

    // ---- versions ----

    [Fact]
    public async Task CreateVersionAsync_UpToFive_ThenVersionsLimitExceeded()
    {
        await CreateAsync();
        for (var i = 2; i <= MaxVersions; i++)
        {
            var (version, isDefault) = await _templates.CreateVersionAsync("seed", OtherBody, setAsDefault: false, None);
            Assert.Equal((i, false), (version.VersionId, isDefault));
        }

        await ServiceAssert.ThrowsAsync(ErrorCode.VersionsLimitExceeded, () => _templates.CreateVersionAsync("seed", OtherBody, false, None), "5");
        Assert.Equal([1L, 2, 3, 4, 5], await VersionIdsAsync("seed"));

        // Deleting one frees a place; ids are never reused.
        await _templates.DeleteVersionAsync("seed", 3, None);
        var (sixth, _) = await _templates.CreateVersionAsync("seed", OtherBody, true, None);
        Assert.Equal(6, sixth.VersionId);
        Assert.Equal([1L, 2, 4, 5, 6], await VersionIdsAsync("seed"));
    }

    [Fact]
    public async Task CreateVersionAsync_SetAsDefault_DescribeReturnsNewBody()
    {
        await CreateAsync();
        _db.Time.Advance(TimeSpan.FromMinutes(1));

        var (version, isDefault) = await _templates.CreateVersionAsync("seed", OtherBody, setAsDefault: true, None);

        Assert.True(isDefault);
        var described = await _templates.DescribeAsync("seed", None);
        Assert.Equal((version.VersionId, OtherBody), (described.Template.DefaultVersionId, described.DefaultVersion.Body));
        Assert.Equal(ServiceDatabase.Start.AddMinutes(1), described.Template.LastModifiedAt);
        var (template, first) = await _templates.DescribeVersionAsync("seed", 1, None);
        Assert.Equal((SeedBody, 2L), (first.Body, template.DefaultVersionId));
    }

    [Fact]
    public async Task CreateVersionAsync_InvalidBodyOrMissingTemplate_RefusedAndNothingStored()
    {
        await CreateAsync();

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.CreateVersionAsync("seed", "{ nope", true, None), "not valid JSON");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.CreateVersionAsync("missing", OtherBody, true, None));
        Assert.Equal([1L], await VersionIdsAsync("seed"));
    }

    [Fact]
    public async Task DeleteVersionAsync_Default_DeleteConflict_Missing_NotFound()
    {
        await CreateAsync();
        await _templates.CreateVersionAsync("seed", OtherBody, false, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => _templates.DeleteVersionAsync("seed", 1, None), "default version");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DeleteVersionAsync("seed", 9, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DeleteVersionAsync("missing", 2, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DescribeVersionAsync("seed", 9, None));

        await _templates.DeleteVersionAsync("seed", 2, None);
        Assert.Equal([1L], await VersionIdsAsync("seed"));
    }

    [Fact]
    public async Task ListVersionsAsync_Pages_OldestFirst()
    {
        await CreateAsync();
        await _templates.CreateVersionAsync("seed", OtherBody, true, None);
        await _templates.CreateVersionAsync("seed", OtherBody, false, None);

        var first = await _templates.ListVersionsAsync("seed", new PageRequest(null, 2), None);
        Assert.Equal([1L, 2], first.Versions.Items.Select(v => v.VersionId));
        Assert.NotNull(first.Versions.NextKey);
        var second = await _templates.ListVersionsAsync("seed", PageRequest.From(first.Versions.NextKey, 2), None);
        Assert.Equal([3L], second.Versions.Items.Select(v => v.VersionId));
        Assert.Null(second.Versions.NextKey);
        Assert.Equal(2, second.Template.DefaultVersionId);
    }

    // ---- UpdateAsync ----

    [Fact]
    public async Task UpdateAsync_EnabledDescriptionDefaultRoleHook_AppliedAndOthersKept()
    {
        await CreateAsync();
        await _templates.CreateVersionAsync("seed", OtherBody, false, None);
        _db.Time.Advance(TimeSpan.FromSeconds(30));

        await _templates.UpdateAsync("seed", new TemplateUpdate(Enabled: true, DefaultVersionId: 2, PreProvisioningHook: new Hook(HookArn, "2021-01-01")), None);

        var described = await _templates.DescribeAsync("seed", None);
        Assert.Equal((true, 2L, OtherBody), (described.Template.Enabled, described.Template.DefaultVersionId, described.DefaultVersion.Body));
        Assert.Equal(("the seed's template", RoleArn), (described.Template.Description, described.Template.ProvisioningRoleArn));
        Assert.Equal((HookArn, "2021-01-01"), (described.Template.HookTargetArn, described.Template.HookPayloadVersion));
        Assert.Equal(ServiceDatabase.Start.AddSeconds(30), described.Template.LastModifiedAt);

        await _templates.UpdateAsync("seed", new TemplateUpdate(Description: "new", ProvisioningRoleArn: "arn:aws:iam::123456789012:role/Other", RemovePreProvisioningHook: true), None);
        var updated = (await _templates.DescribeAsync("seed", None)).Template;
        Assert.Equal(("new", "arn:aws:iam::123456789012:role/Other", null, true), (updated.Description, updated.ProvisioningRoleArn, updated.HookTargetArn, updated.Enabled));
    }

    [Fact]
    public async Task UpdateAsync_InvalidRequests_RefusedAndNothingChanged()
    {
        await CreateAsync(type: ProvisioningTemplateType.Jitp);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.UpdateAsync("seed", new TemplateUpdate(DefaultVersionId: 7, Enabled: true), None), "Version 7");
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.UpdateAsync("seed", new TemplateUpdate(PreProvisioningHook: new Hook(HookArn, null)), None), "FLEET_PROVISIONING");
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.UpdateAsync("seed", new TemplateUpdate(PreProvisioningHook: new Hook(HookArn, null), RemovePreProvisioningHook: true), None), "together");
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _templates.UpdateAsync("seed", new TemplateUpdate(ProvisioningRoleArn: "role"), None), "provisioningRoleArn");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.UpdateAsync("missing", new TemplateUpdate(Enabled: true), None));

        var template = (await _templates.DescribeAsync("seed", None)).Template;
        Assert.Equal((false, 1L, ServiceDatabase.Start), (template.Enabled, template.DefaultVersionId, template.LastModifiedAt));
    }

    // ---- DeleteAsync / ListAsync ----

    [Fact]
    public async Task DeleteAsync_RemovesVersionsAndTags_NameCanBeReused()
    {
        await CreateAsync(tags: [new Tag("owner", "factory")]);
        await _templates.CreateVersionAsync("seed", OtherBody, false, None);

        await _templates.DeleteAsync("seed", None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DescribeAsync("seed", None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DeleteAsync("seed", None));
        Assert.Empty(await _db.StoredTagsAsync(TagKind, "seed"));
        await CreateAsync(body: OtherBody);
        Assert.Equal([1L], await VersionIdsAsync("seed"));
    }

    [Fact]
    public async Task DeleteAsync_UsedByAnEnrollmentOrGroup_DeleteConflictUntilTheyAreGone()
    {
        await CreateAsync();
        var enrollments = new EnrollmentService(_db.Store, new ProvisioningTemplateResolver(_templates, _db.Scope), new Pki.PassphraseSealer(null), _db.Time);
        await enrollments.CreateGroupAsync("line-1", new EnrollmentSettings("seed"), None);
        await enrollments.CreateAsync("SN-1", new EnrollmentSettings("seed"), null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => _templates.DeleteAsync("seed", None), "enrollments");
        await enrollments.DeleteGroupAsync("line-1", None);
        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => _templates.DeleteAsync("seed", None), "enrollments");
        await enrollments.DeleteAsync("SN-1", None);

        await _templates.DeleteAsync("seed", None);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _templates.DescribeAsync("seed", None));
    }

    [Fact]
    public async Task ListAsync_PagesByName()
    {
        foreach (var name in new[] { "b", "A", "a", "_z" })
        {
            await CreateAsync(name);
        }

        var first = await _templates.ListAsync(new PageRequest(null, 3), None);
        var second = await _templates.ListAsync(PageRequest.From(first.NextKey, 3), None);

        Assert.Equal(["A", "_z", "a", "b"], first.Items.Concat(second.Items).Select(t => t.Name));
        Assert.Null(second.NextKey);
    }

    // ---- tags through TagService, the resolver ----

    [Fact]
    public async Task TagService_TemplateArn_IsTaggable()
    {
        await CreateAsync();
        var arn = Arn.For(_db.Scope, ResourceKind.ProvisioningTemplate, "seed");

        await _db.Tags.TagAsync(_db.Scope, arn, [new Tag("env", "prod")], None);

        Assert.Equal([new Tag("env", "prod")], (await _db.Tags.ListAsync(_db.Scope, arn, new PageRequest(null, 10), None)).Items);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _db.Tags.TagAsync(_db.Scope, Arn.For(_db.Scope, ResourceKind.ProvisioningTemplate, "missing"), [new Tag("a", "b")], None));
    }

    [Fact]
    public async Task Resolver_ReturnsDefaultVersionEnabledAndType_NullWhenMissing()
    {
        await CreateAsync(type: ProvisioningTemplateType.Jitp, enabled: true);
        await _templates.CreateVersionAsync("seed", OtherBody, setAsDefault: true, None);
        var resolver = new ProvisioningTemplateResolver(_templates, _db.Scope);

        var resolved = await resolver.ResolveAsync("seed", None);

        Assert.Equal(
            new ResolvedTemplate("seed", "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/seed", OtherBody, true, ProvisioningTemplateType.Jitp),
            resolved);
        Assert.Null(await resolver.ResolveAsync("missing", None));
    }
}

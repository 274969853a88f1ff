using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class PolicyServiceTests : IAsyncLifetime
{
    private const string AllowPublish = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}""";
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly PageRequest All = new(null, 100);
    private readonly SecurityServices _s = new();

    public Task InitializeAsync() => _s.InitializeAsync();

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private PolicyService Policies => _s.Policies;

    private static string Allow(string action) =>
        $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"{{action}}","Resource":"*"}]}""";

    private async Task<string> NewCertificateArnAsync() => _s.CertificateArn((await _s.CreateCertificateAsync()).CertificateId);

    private async Task<IReadOnlyList<string>> AttachedAsync(string targetArn, bool recursive = false) =>
        (await Policies.ListAttachedAsync(_s.Scope, targetArn, recursive, All, None)).Items.Select(p => p.Name).ToArray();

    // ---- CreateAsync / GetAsync / DeleteAsync ----

    [Fact]
    public async Task CreateAsync_Valid_StoresVersionOneAsDefault()
    {
        var created = await Policies.CreateAsync("p1", SecurityServices.AllowConnect, null, None);

        Assert.Equal(1, created.Policy.DefaultVersionId);
        var got = await Policies.GetAsync("p1", None);
        Assert.Equal(SecurityServices.AllowConnect, got.Version.Document);
        Assert.Equal(1, got.Version.VersionId);
        Assert.Equal(ServiceDatabase.Start, got.Policy.CreatedAt);
    }

    public static TheoryData<string, string> MalformedDocuments => new()
    {
        { "not json", "{" },
        { "empty", "" },
        { "no statement", """{"Version":"2012-10-17"}""" },
        { "bad effect", """{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:Connect","Resource":"*"}]}""" },
        { "no action", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}""" },
    };

    [Theory]
    [MemberData(nameof(MalformedDocuments))]
    public async Task CreateAsync_Malformed_MalformedPolicyAndNothingStored(string label, string document)
    {
        _ = label;
        await ServiceAssert.ThrowsAsync(ErrorCode.MalformedPolicy, () => Policies.CreateAsync("p1", document, null, None));

        Assert.Null(await _s.StoredPolicyAsync("p1"));
    }

    [Fact]
    public async Task CreateAsync_NameTaken_ResourceAlreadyExists()
    {
        await _s.CreatePolicyAsync("p1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => Policies.CreateAsync("p1", AllowPublish, null, None));
        Assert.Equal(SecurityServices.AllowConnect, (await Policies.GetAsync("p1", None)).Version.Document);
    }

    [Fact]
    public async Task GetAsync_Missing_ResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.GetAsync("nope", None));
    }

    [Fact]
    public async Task DeleteAsync_OnlyDefaultVersion_DeletedAndNameReusable()
    {
        await _s.CreatePolicyAsync("p1");

        await Policies.DeleteAsync("p1", None);

        Assert.Null(await _s.StoredPolicyAsync("p1"));
        await Policies.CreateAsync("p1", AllowPublish, null, None);
        var recreated = await Policies.GetAsync("p1", None);
        Assert.Equal(AllowPublish, recreated.Version.Document);
        Assert.Single((await Policies.ListVersionsAsync("p1", None)).Versions);
    }

    [Fact]
    public async Task DeleteAsync_WithNonDefaultVersion_DeleteConflict()
    {
        await _s.CreatePolicyAsync("p1");
        await Policies.CreateVersionAsync("p1", AllowPublish, setAsDefault: false, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => Policies.DeleteAsync("p1", None));

        Assert.NotNull(await _s.StoredPolicyAsync("p1"));
        await Policies.DeleteVersionAsync("p1", 2, None);
        await Policies.DeleteAsync("p1", None);
        Assert.Null(await _s.StoredPolicyAsync("p1"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleteAsync_Attached_DeleteConflict(bool toGroup)
    {
        await _s.CreatePolicyAsync("p1");
        string target;
        if (toGroup)
        {
            await _s.CreateGroupAsync("g1");
            target = _s.GroupArn("g1");
        }
        else
        {
            target = await NewCertificateArnAsync();
        }

        await Policies.AttachAsync(_s.Scope, "p1", target, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => Policies.DeleteAsync("p1", None));
        Assert.NotNull(await _s.StoredPolicyAsync("p1"));

        await Policies.DetachAsync(_s.Scope, "p1", target, None);
        await Policies.DeleteAsync("p1", None);
        Assert.Null(await _s.StoredPolicyAsync("p1"));
    }

    [Fact]
    public async Task DeleteAsync_Missing_ResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.DeleteAsync("nope", None));
    }

    // ---- versions ----

    [Fact]
    public async Task CreateVersionAsync_UpToFive_SixthVersionsLimitExceeded()
    {
        await _s.CreatePolicyAsync("p1");
        for (var i = 2; i <= PolicyService.MaxVersions; i++)
        {
            var (version, _) = await Policies.CreateVersionAsync("p1", Allow($"iot:Action{i}"), false, None);
            Assert.Equal(i, version.VersionId);
        }

        await ServiceAssert.ThrowsAsync(ErrorCode.VersionsLimitExceeded, () => Policies.CreateVersionAsync("p1", AllowPublish, true, None));

        var (policy, versions) = await Policies.ListVersionsAsync("p1", None);
        Assert.Equal(5, versions.Count);
        Assert.Equal(1, policy.DefaultVersionId);
    }

    [Fact]
    public async Task CreateVersionAsync_AfterDeletingOne_NextIdKeepsCounting()
    {
        await _s.CreatePolicyAsync("p1");
        await Policies.CreateVersionAsync("p1", AllowPublish, false, None);
        await Policies.DeleteVersionAsync("p1", 2, None);

        var (version, _) = await Policies.CreateVersionAsync("p1", Allow("iot:Receive"), false, None);

        Assert.Equal(3, version.VersionId);
        Assert.Equal([3L, 1L], (await Policies.ListVersionsAsync("p1", None)).Versions.Select(v => v.VersionId));
    }

    [Fact]
    public async Task CreateVersionAsync_SetAsDefault_GetReturnsNewDocument()
    {
        await _s.CreatePolicyAsync("p1");

        var (version, isDefault) = await Policies.CreateVersionAsync("p1", AllowPublish, setAsDefault: true, None);

        Assert.True(isDefault);
        var got = await Policies.GetAsync("p1", None);
        Assert.Equal(version.VersionId, got.Policy.DefaultVersionId);
        Assert.Equal(AllowPublish, got.Version.Document);
    }

    [Fact]
    public async Task CreateVersionAsync_Malformed_MalformedPolicyAndNoVersion()
    {
        await _s.CreatePolicyAsync("p1");

        await ServiceAssert.ThrowsAsync(ErrorCode.MalformedPolicy, () => Policies.CreateVersionAsync("p1", "{\"Version\":1}", true, None));

        Assert.Single((await Policies.ListVersionsAsync("p1", None)).Versions);
    }

    [Fact]
    public async Task SetDefaultVersionAsync_Existing_BecomesDefault()
    {
        await _s.CreatePolicyAsync("p1");
        await Policies.CreateVersionAsync("p1", AllowPublish, false, None);
        Assert.Equal(SecurityServices.AllowConnect, (await Policies.GetAsync("p1", None)).Version.Document);

        await Policies.SetDefaultVersionAsync("p1", 2, None);

        Assert.Equal(AllowPublish, (await Policies.GetAsync("p1", None)).Version.Document);
        await Policies.DeleteVersionAsync("p1", 1, None);
        Assert.Equal([2L], (await Policies.ListVersionsAsync("p1", None)).Versions.Select(v => v.VersionId));
    }

    [Fact]
    public async Task SetDefaultVersionAsync_MissingVersion_ResourceNotFound()
    {
        await _s.CreatePolicyAsync("p1");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.SetDefaultVersionAsync("p1", 7, None));
        Assert.Equal(1, (await _s.StoredPolicyAsync("p1"))!.DefaultVersionId);
    }

    [Fact]
    public async Task DeleteVersionAsync_Default_DeleteConflict()
    {
        await _s.CreatePolicyAsync("p1");
        await Policies.CreateVersionAsync("p1", AllowPublish, setAsDefault: true, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => Policies.DeleteVersionAsync("p1", 2, None));

        Assert.Equal(2, (await Policies.ListVersionsAsync("p1", None)).Versions.Count);
    }

    [Fact]
    public async Task GetVersionAsync_Each_ReturnsItsDocument()
    {
        await _s.CreatePolicyAsync("p1");
        await Policies.CreateVersionAsync("p1", AllowPublish, false, None);

        Assert.Equal(SecurityServices.AllowConnect, (await Policies.GetVersionAsync("p1", 1, None)).Version.Document);
        Assert.Equal(AllowPublish, (await Policies.GetVersionAsync("p1", 2, None)).Version.Document);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.GetVersionAsync("p1", 3, None));
    }

    // ---- attach / detach / list ----

    [Fact]
    public async Task AttachAsync_CertificateAndGroup_ListedBothWays()
    {
        await _s.CreatePolicyAsync("p1");
        var certificate = await _s.CreateCertificateAsync();
        await _s.CreateGroupAsync("g1");

        await Policies.AttachAsync(_s.Scope, "p1", _s.CertificateArn(certificate.CertificateId), None);
        await Policies.AttachAsync(_s.Scope, "p1", _s.GroupArn("g1"), None);
        await Policies.AttachAsync(_s.Scope, "p1", _s.GroupArn("g1"), None);

        Assert.Equal(["p1"], await AttachedAsync(_s.CertificateArn(certificate.CertificateId)));
        Assert.Equal(["p1"], await AttachedAsync(_s.GroupArn("g1")));
        var targets = (await Policies.ListTargetsAsync("p1", All, None)).Items;
        Assert.Equal(
            [new PolicyTarget(PolicyTarget.CertificateKind, certificate.CertificateId), new PolicyTarget(PolicyTarget.ThingGroupKind, "g1")],
            targets);
    }

    [Fact]
    public async Task DetachAsync_Attached_Removed()
    {
        await _s.CreatePolicyAsync("p1");
        var arn = await NewCertificateArnAsync();
        await Policies.AttachAsync(_s.Scope, "p1", arn, None);

        await Policies.DetachAsync(_s.Scope, "p1", arn, None);

        Assert.Empty(await AttachedAsync(arn));
        Assert.Empty((await Policies.ListTargetsAsync("p1", All, None)).Items);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AttachAsync_EleventhPolicy_LimitExceeded(bool toGroup)
    {
        string target;
        if (toGroup)
        {
            await _s.CreateGroupAsync("g1");
            target = _s.GroupArn("g1");
        }
        else
        {
            target = await NewCertificateArnAsync();
        }

        for (var i = 0; i < PolicyService.MaxPoliciesPerTarget; i++)
        {
            await _s.CreatePolicyAsync($"p{i:D2}");
            await Policies.AttachAsync(_s.Scope, $"p{i:D2}", target, None);
        }

        await _s.CreatePolicyAsync("p10");

        await ServiceAssert.ThrowsAsync(ErrorCode.LimitExceeded, () => Policies.AttachAsync(_s.Scope, "p10", target, None));
        Assert.Equal(10, (await AttachedAsync(target)).Count);
        Assert.DoesNotContain("p10", await AttachedAsync(target));

        // Re-attaching one already there is not an eleventh.
        await Policies.AttachAsync(_s.Scope, "p00", target, None);
    }

    public static TheoryData<string> BadTargets => new()
    {
        "arn:aws:iot:eu-west-1:123456789012:thing/sensor-1",
        "arn:aws:iot:eu-west-1:123456789012:policy/p1",
        "not-an-arn",
    };

    [Theory]
    [MemberData(nameof(BadTargets))]
    public async Task AttachAsync_NotCertificateOrGroupArn_InvalidRequest(string target)
    {
        await _s.CreatePolicyAsync("p1");

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Policies.AttachAsync(_s.Scope, "p1", target, None));
    }

    [Fact]
    public async Task AttachAsync_MissingTargetOrPolicy_ResourceNotFound()
    {
        await _s.CreatePolicyAsync("p1");
        var arn = await NewCertificateArnAsync();
        var certificateId = arn[(arn.LastIndexOf('/') + 1)..];

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.AttachAsync(_s.Scope, "p1", _s.GroupArn("nope"), None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.AttachAsync(_s.Scope, "p1", _s.CertificateArn(new string('e', 64)), None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.AttachAsync(_s.Scope, "nope", arn, None));
        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceNotFound,
            () => Policies.AttachAsync(_s.Scope, "p1", $"arn:aws:iot:eu-west-1:999999999999:cert/{certificateId}", None));
        Assert.Empty(await _s.TargetsOfPolicyAsync("p1"));
    }

    [Fact]
    public async Task ListAttachedAsync_RecursiveOnGroup_IncludesAncestorsOnly()
    {
        await _s.CreateGroupAsync("root");
        await _s.CreateGroupAsync("mid", "root");
        await _s.CreateGroupAsync("leaf", "mid");
        await _s.CreateGroupAsync("sibling", "root");
        foreach (var (policy, group) in new[] { ("p-root", "root"), ("p-mid", "mid"), ("p-leaf", "leaf"), ("p-sibling", "sibling") })
        {
            await _s.CreatePolicyAsync(policy);
            await Policies.AttachAsync(_s.Scope, policy, _s.GroupArn(group), None);
        }

        Assert.Equal(["p-leaf"], await AttachedAsync(_s.GroupArn("leaf")));
        Assert.Equal(["p-leaf", "p-mid", "p-root"], await AttachedAsync(_s.GroupArn("leaf"), recursive: true));
        Assert.Equal(["p-mid", "p-root"], await AttachedAsync(_s.GroupArn("mid"), recursive: true));
        Assert.Equal(["p-root"], await AttachedAsync(_s.GroupArn("root"), recursive: true));
    }

    [Fact]
    public async Task ListAttachedAsync_Paged_EveryPolicyOnce()
    {
        var arn = await NewCertificateArnAsync();
        var names = Enumerable.Range(0, 7).Select(i => $"p{i}").ToArray();
        foreach (var name in names)
        {
            await _s.CreatePolicyAsync(name);
            await Policies.AttachAsync(_s.Scope, name, arn, None);
        }

        var listed = new List<string>();
        string? token = null;
        do
        {
            var page = await Policies.ListAttachedAsync(_s.Scope, arn, false, PageRequest.From(token, 3), None);
            listed.AddRange(page.Items.Select(p => p.Name));
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(names, listed);
    }

    [Fact]
    public async Task ListTargetsAsync_Paged_EveryTargetOnce()
    {
        await _s.CreatePolicyAsync("p1");
        var expected = new List<PolicyTarget>();
        for (var i = 0; i < 3; i++)
        {
            var certificate = await _s.CreateCertificateAsync();
            await Policies.AttachAsync(_s.Scope, "p1", _s.CertificateArn(certificate.CertificateId), None);
            expected.Add(new PolicyTarget(PolicyTarget.CertificateKind, certificate.CertificateId));
            await _s.CreateGroupAsync($"g{i}");
            await Policies.AttachAsync(_s.Scope, "p1", _s.GroupArn($"g{i}"), None);
            expected.Add(new PolicyTarget(PolicyTarget.ThingGroupKind, $"g{i}"));
        }

        var listed = new List<PolicyTarget>();
        string? token = null;
        do
        {
            var page = await Policies.ListTargetsAsync("p1", PageRequest.From(token, 4), None);
            listed.AddRange(page.Items);
            token = page.NextKey;
        }
        while (token is not null);

        Assert.Equal(expected.OrderBy(t => t.Kind + "/" + t.Id, StringComparer.Ordinal), listed);
    }

    // ---- GetEffectiveAsync ----

    [Fact]
    public async Task GetEffectiveAsync_CertificateAndThing_CertificatePoliciesAndGroupsWithAncestors()
    {
        await _s.CreateGroupAsync("root");
        await _s.CreateGroupAsync("child", "root");
        await _s.CreateGroupAsync("other-root");
        await _s.CreateGroupAsync("unrelated");
        await _s.CreateThingAsync("sensor-1");
        await _s.Db.ThingGroups.AddThingAsync("child", "sensor-1", None);
        await _s.Db.ThingGroups.AddThingAsync("other-root", "sensor-1", None);
        var arn = await NewCertificateArnAsync();
        var documents = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (policy, target) in new[]
        {
            ("p-cert", arn), ("p-root", _s.GroupArn("root")), ("p-child", _s.GroupArn("child")),
            ("p-other", _s.GroupArn("other-root")), ("p-unrelated", _s.GroupArn("unrelated")),
        })
        {
            documents[policy] = Allow("iot:" + policy.Replace("-", "", StringComparison.Ordinal));
            await _s.CreatePolicyAsync(policy, documents[policy]);
            await Policies.AttachAsync(_s.Scope, policy, target, None);
        }

        await Policies.CreateVersionAsync("p-root", AllowPublish, setAsDefault: true, None);
        documents["p-root"] = AllowPublish;

        var both = await Policies.GetEffectiveAsync(_s.Scope, arn, "sensor-1", None);
        var certificateOnly = await Policies.GetEffectiveAsync(_s.Scope, arn, null, None);
        var thingOnly = await Policies.GetEffectiveAsync(_s.Scope, null, "sensor-1", None);

        Assert.Equal(["p-cert", "p-child", "p-other", "p-root"], both.Select(p => p.PolicyName).Order(StringComparer.Ordinal));
        Assert.All(both, p => Assert.Equal(documents[p.PolicyName], p.Document));
        Assert.Equal(["p-cert"], certificateOnly.Select(p => p.PolicyName));
        Assert.Equal(["p-child", "p-other", "p-root"], thingOnly.Select(p => p.PolicyName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetEffectiveAsync_MissingThingOrCertificate_ResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.GetEffectiveAsync(_s.Scope, null, "nope", None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Policies.GetEffectiveAsync(_s.Scope, _s.CertificateArn(new string('f', 64)), null, None));
    }

    // ---- thing group deletion ----

    [Fact]
    public async Task ThingGroupDeleteAsync_WithPolicies_DetachesThem()
    {
        await _s.CreateGroupAsync("g1");
        await _s.CreatePolicyAsync("p1");
        var arn = await NewCertificateArnAsync();
        await Policies.AttachAsync(_s.Scope, "p1", _s.GroupArn("g1"), None);
        await Policies.AttachAsync(_s.Scope, "p1", arn, None);

        await _s.Db.ThingGroups.DeleteAsync("g1", null, None);

        Assert.Equal([new PolicyTarget(PolicyTarget.CertificateKind, arn[(arn.LastIndexOf('/') + 1)..])], await _s.TargetsOfPolicyAsync("p1"));

        // A new group of the same name starts with no policies.
        await _s.CreateGroupAsync("g1");
        Assert.Empty(await AttachedAsync(_s.GroupArn("g1")));
    }

    [Fact]
    public async Task ListAsync_Paged_ByName()
    {
        foreach (var name in new[] { "c", "a", "b", "d" })
        {
            await _s.CreatePolicyAsync(name);
        }

        var first = await Policies.ListAsync(true, new PageRequest(null, 3), None);
        var second = await Policies.ListAsync(true, PageRequest.From(first.NextKey, 3), None);
        var descending = await Policies.ListAsync(false, new PageRequest(null, 10), None);

        Assert.Equal(["a", "b", "c"], first.Items.Select(p => p.Name));
        Assert.Equal(["d"], second.Items.Select(p => p.Name));
        Assert.Null(second.NextKey);
        Assert.Equal(["d", "c", "b", "a"], descending.Items.Select(p => p.Name));
    }
}

using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Policies;
using Fleetkey.Services.Access;
using Xunit;

namespace Fleetkey.Services.Tests.Access;

/// <summary>Identity policies on keys, status, rotation and sealing, through the service on a real store (both databases).</summary>
public sealed class AccessKeyPolicyTests : IAsyncLifetime
{
    private const string AllowThings = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:DescribeThing","Resource":"arn:aws:iot:*:*:thing/sensor-*"}]}""";
    private const string DenyThings = """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"arn:aws:iot:*:*:thing/sensor-9*"}]}""";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ServiceDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync().AsTask();

    private AccessKeyService Keys => _db.AccessKeys;

    private static AccessRequest Describe(string thing) =>
        new("iot:DescribeThing", [$"arn:aws:iot:eu-west-1:123456789012:thing/{thing}"], new Dictionary<string, string>());

    [Fact]
    public async Task Policies_AttachedAtCreation_AreStoredAndDecide()
    {
        var key = await Keys.CreateAsync("p", [new AccessKeyPolicy("things", AllowThings, ServiceDatabase.Start)], fullAccess: false, None);

        var found = (await Keys.FindAsync(key.AccessKeyId, None))!;
        Assert.Equal(["things"], found.Policies.Select(p => p.PolicyName));
        Assert.True(AccessAuthorizer.Decide(found, Describe("sensor-1")).IsAllowed);
        Assert.Equal(PolicyDecision.ImplicitDeny, AccessAuthorizer.Decide(found, Describe("gateway-1")).Decision);
        Assert.Equal(PolicyDecision.ImplicitDeny, AccessAuthorizer.Decide(found, Describe("sensor-1") with { Action = "iot:DeleteThing" }).Decision);
    }

    [Fact]
    public async Task Decide_NoPolicy_DeniesEverything_RootAllowsEverything()
    {
        var none = await Keys.CreateAsync(null, [], fullAccess: false, None);
        var root = await Keys.CreateAsync(null, [], fullAccess: true, None);

        Assert.Equal(PolicyDecision.ImplicitDeny, AccessAuthorizer.Decide(none, Describe("sensor-1")).Decision);
        Assert.True(AccessAuthorizer.Decide(root, Describe("sensor-1") with { Action = "iot:DeleteCACertificate" }).IsAllowed);
    }

    [Fact]
    public async Task AttachPolicy_ExplicitDeny_WinsAndNamesTheResource()
    {
        var key = await Keys.CreateAsync(null, [new AccessKeyPolicy("things", AllowThings, ServiceDatabase.Start)], fullAccess: false, None);
        await Keys.AttachPolicyAsync(key.AccessKeyId, "no-sensor-9", DenyThings, None);

        var found = (await Keys.FindAsync(key.AccessKeyId, None))!;
        var decision = AccessAuthorizer.Decide(found, Describe("sensor-99"));
        Assert.Equal(PolicyDecision.ExplicitDeny, decision.Decision);
        Assert.Equal("arn:aws:iot:eu-west-1:123456789012:thing/sensor-99", decision.RefusedResource);
        Assert.True(AccessAuthorizer.Decide(found, Describe("sensor-1")).IsAllowed);

        var refusal = AccessAuthorizer.Refusal(AccessAuthorizer.PrincipalArn("123456789012", key.AccessKeyId), "iot:DescribeThing", decision);
        Assert.Equal(ErrorCode.AccessDenied, refusal.Code);
        Assert.Equal(
            $"User: arn:aws:iam::123456789012:user/{key.AccessKeyId} is not authorized to perform: iot:DescribeThing on resource: arn:aws:iot:eu-west-1:123456789012:thing/sensor-99 with an explicit deny in an identity-based policy",
            refusal.Message);
    }

    [Fact]
    public async Task AttachPolicy_SameName_ReplacesTheDocument_DetachRemovesIt()
    {
        var key = await Keys.CreateAsync(null, [new AccessKeyPolicy("p", AllowThings, ServiceDatabase.Start)], fullAccess: false, None);
        await Keys.AttachPolicyAsync(key.AccessKeyId, "p", DenyThings, None);
        Assert.Equal([DenyThings], (await Keys.FindAsync(key.AccessKeyId, None))!.Policies.Select(p => p.Document));

        await Keys.DetachPolicyAsync(key.AccessKeyId, "p", None);
        Assert.Empty((await Keys.FindAsync(key.AccessKeyId, None))!.Policies);
        await AssertCode(ErrorCode.ResourceNotFound, () => Keys.DetachPolicyAsync(key.AccessKeyId, "p", None));
    }

    [Theory]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}""")]
    [InlineData("""{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:*","Resource":"*"}]}""")]
    [InlineData("""{"Statement":""")]
    public async Task AttachPolicy_Malformed_IsRefusedAndChangesNothing(string document)
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);

        await AssertCode(ErrorCode.MalformedPolicy, () => Keys.AttachPolicyAsync(key.AccessKeyId, "bad", document, None));
        await AssertCode(ErrorCode.MalformedPolicy, () => Keys.CreateAsync(null, [new AccessKeyPolicy("bad", document, ServiceDatabase.Start)], fullAccess: false, None));
        Assert.Empty((await Keys.FindAsync(key.AccessKeyId, None))!.Policies);
        Assert.Single(await Keys.ListAsync(None));
    }

    [Fact]
    public async Task AttachPolicy_BadNameOrTooMany_IsRefused()
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);
        await AssertCode(ErrorCode.InvalidRequest, () => Keys.AttachPolicyAsync(key.AccessKeyId, "no spaces", AllowThings, None));
        for (var i = 0; i < AccessKeyService.MaxPoliciesPerKey; i++)
        {
            await Keys.AttachPolicyAsync(key.AccessKeyId, $"p{i}", AllowThings, None);
        }

        await AssertCode(ErrorCode.LimitExceeded, () => Keys.AttachPolicyAsync(key.AccessKeyId, "one-more", AllowThings, None));
        await AssertCode(ErrorCode.ResourceNotFound, () => Keys.AttachPolicyAsync("AKIANOSUCHKEY0000000", "p", AllowThings, None));
    }

    [Fact]
    public async Task ShippedPolicies_AllParse_AndProvisionerAllowsExactlyTheSeedsCalls()
    {
        foreach (var name in ShippedPolicies.Names)
        {
            IdentityPolicies.Parse(ShippedPolicies.Find(name)!);
        }

        var key = await Keys.CreateAsync(null, [new AccessKeyPolicy("provisioner", ShippedPolicies.Find("provisioner")!, ServiceDatabase.Start)], fullAccess: false, None);
        const string Thing = "arn:aws:iot:us-east-1:000000000000:thing/SN-1";
        const string Cert = "arn:aws:iot:us-east-1:000000000000:cert/abc";
        (string Action, string? Resource, bool Allowed)[] cases =
        [
            ("iot:CreateKeysAndCertificate", null, true), ("iot:RegisterThing", null, true),
            ("iot:ListThingPrincipals", Thing, true), ("iot:DetachThingPrincipal", Cert, true),
            ("iot:UpdateCertificate", Cert, true), ("iot:DeleteCertificate", Cert, true), ("iot:DeleteThing", Thing, true),
            ("iot:DeleteCACertificate", "arn:aws:iot:us-east-1:000000000000:cacert/abc", false), ("iot:CreatePolicy", "arn:aws:iot:us-east-1:000000000000:policy/p", false),
            ("iot:DeletePolicy", "arn:aws:iot:us-east-1:000000000000:policy/p", false), ("iot:UpdateCACertificate", "arn:aws:iot:us-east-1:000000000000:cacert/abc", false),
            ("iot:CreateProvisioningTemplate", "arn:aws:iot:us-east-1:000000000000:provisioningtemplate/t", false), ("iot:ListThings", null, false),
            ("iot:CreateThing", Thing, false), ("fleetkey:CreateAccessKey", null, false), ("fleetkey:ListAuditRecords", null, false),
        ];
        foreach (var (action, resource, allowed) in cases)
        {
            var request = new AccessRequest(action, resource is null ? [] : [resource], new Dictionary<string, string>());
            Assert.True(allowed == AccessAuthorizer.Decide(key, request).IsAllowed, $"{action} on {resource ?? "*"} should be {(allowed ? "allowed" : "denied")}");
        }
    }

    [Fact]
    public async Task SetStatus_TogglesAndRefusesUnknownValues()
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);
        await Keys.SetStatusAsync(key.AccessKeyId, AccessKey.Inactive, None);
        Assert.Equal(AccessKey.Inactive, (await Keys.FindAsync(key.AccessKeyId, None))!.Status);
        await Keys.SetStatusAsync(key.AccessKeyId, AccessKey.Active, None);
        Assert.Equal(AccessKey.Active, (await Keys.FindAsync(key.AccessKeyId, None))!.Status);
        await AssertCode(ErrorCode.InvalidRequest, () => Keys.SetStatusAsync(key.AccessKeyId, "Paused", None));
        await AssertCode(ErrorCode.ResourceNotFound, () => Keys.SetStatusAsync("AKIANOSUCHKEY0000000", AccessKey.Active, None));
    }

    [Fact]
    public async Task Rotate_NewSecret_OldOneKeptForTheGraceOnly()
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);
        var rotated = await Keys.RotateAsync(key.AccessKeyId, TimeSpan.FromHours(1), None);

        Assert.NotEqual(key.SecretAccessKey, rotated.SecretAccessKey);
        var found = (await Keys.FindAsync(key.AccessKeyId, None))!;
        Assert.Equal(rotated.SecretAccessKey, found.SecretAccessKey);
        Assert.Equal(key.SecretAccessKey, found.PreviousSecretAccessKey);
        Assert.Equal(ServiceDatabase.Start.AddHours(1), found.PreviousSecretExpiresAt);

        _db.Time.Advance(TimeSpan.FromHours(1));
        Assert.Null((await Keys.FindAsync(key.AccessKeyId, None))!.PreviousSecretAccessKey);

        var again = await Keys.RotateAsync(key.AccessKeyId, TimeSpan.Zero, None);
        Assert.Null((await Keys.FindAsync(key.AccessKeyId, None))!.PreviousSecretAccessKey);
        Assert.Equal(again.SecretAccessKey, (await Keys.FindAsync(key.AccessKeyId, None))!.SecretAccessKey);
        await AssertCode(ErrorCode.InvalidRequest, () => Keys.RotateAsync(key.AccessKeyId, TimeSpan.FromDays(31), None));
    }

    [Fact]
    public async Task Secrets_WithAPassphrase_AreSealedAtRest_AndOpenedOnlyWithIt()
    {
        var sealing = new AccessKeyService(_db.Store, new PassphraseSealer("correct horse"), _db.Time);
        var key = await sealing.CreateAsync(null, [], fullAccess: false, None);
        await sealing.RotateAsync(key.AccessKeyId, TimeSpan.FromHours(1), None);

        var stored = await _db.Store.ReadAsync((s, ct) => s.AccessKeys.FindAsync(key.AccessKeyId, ct), None);
        Assert.NotNull(stored!.SecretKekSalt);
        Assert.NotNull(stored.PreviousSecretKekSalt);
        Assert.DoesNotContain(key.SecretAccessKey, Encoding.UTF8.GetString(Convert.FromBase64String(stored.PreviousSecretAccessKey!)), StringComparison.Ordinal);
        Assert.Equal(key.SecretAccessKey, (await sealing.FindAsync(key.AccessKeyId, None))!.PreviousSecretAccessKey);

        // Another passphrase opens nothing: the key reads as absent rather than with a wrong secret.
        Assert.Null(await new AccessKeyService(_db.Store, new PassphraseSealer("wrong"), _db.Time).FindAsync(key.AccessKeyId, None));
    }

    [Fact]
    public async Task SealClearSecrets_SealsKeysMadeWithoutAPassphrase()
    {
        var key = await Keys.CreateAsync(null, [], fullAccess: false, None);
        var sealing = new AccessKeyService(_db.Store, new PassphraseSealer("correct horse"), _db.Time);

        Assert.Equal(1, await sealing.SealClearSecretsAsync(None));
        Assert.Equal(0, await sealing.SealClearSecretsAsync(None));
        var stored = await _db.Store.ReadAsync((s, ct) => s.AccessKeys.FindAsync(key.AccessKeyId, ct), None);
        Assert.NotEqual(key.SecretAccessKey, stored!.SecretAccessKey);
        Assert.Equal(key.SecretAccessKey, (await sealing.FindAsync(key.AccessKeyId, None))!.SecretAccessKey);
    }

    private static async Task AssertCode(ErrorCode code, Func<Task> action)
    {
        var exception = await Assert.ThrowsAsync<ServiceException>(action);
        Assert.Equal(code, exception.Code);
    }
}

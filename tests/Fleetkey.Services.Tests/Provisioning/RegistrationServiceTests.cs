using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Tests.Security;
using Fleetkey.Templates;
using Fleetkey.Testing;
using Xunit;
using static Fleetkey.Services.Tests.ServiceDatabase;

namespace Fleetkey.Services.Tests.Provisioning;

public sealed class RegistrationServiceTests : IAsyncLifetime
{
    private const string ThingType = "NewDevice";
    private const string Group = "NewDevices";
    private const string Policy = "DefaultNewDevicePolicy";
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SecurityServices _s = new();

    /// <summary>The seed's template, from the repository (src/Fleetkey.Client/register-thing-template-body.json).</summary>
    private static string Seed => RepositoryFiles.SeedTemplateBody;

    public Task InitializeAsync() => _s.InitializeAsync();

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private RegistrationService Registration => _s.Registration;

    /// <summary>The seed template, edited: a thing OverrideSettings and/or the certificate's Status with REPLACE.</summary>
    private static string SeedWith(string? attributeOverride = null, bool replaceCertificateStatus = false)
    {
        var template = JsonNode.Parse(Seed)!.AsObject();
        var resources = template["Resources"]!.AsObject();
        if (attributeOverride is not null)
        {
            resources["thing"]!.AsObject()["OverrideSettings"] = new JsonObject { ["AttributePayload"] = attributeOverride };
        }

        if (replaceCertificateStatus)
        {
            var certificate = resources["certificate"]!.AsObject();
            certificate["Properties"]!.AsObject()["Status"] = "ACTIVE";
            certificate["OverrideSettings"] = new JsonObject { ["Status"] = "REPLACE" };
        }

        return template.ToJsonString();
    }

    private static Dictionary<string, string> SeedParameters(string serial, string certificateId, string? thingName = null) =>
        Attrs(("ThingName", thingName ?? serial), ("SerialNumber", serial), ("CertificateId", certificateId));

    private async Task SeedWorldAsync(bool type = true, bool group = true, bool policy = true)
    {
        if (type)
        {
            await _s.Db.ThingTypes.CreateAsync(ThingType, null, null, null, null, None);
        }

        if (group)
        {
            await _s.CreateGroupAsync(Group);
        }

        if (policy)
        {
            await _s.CreatePolicyAsync(Policy);
        }
    }

    private Task<RegistrationService.RegistrationResult> RegisterAsync(string template, IReadOnlyDictionary<string, string>? parameters) =>
        Registration.RegisterThingAsync(template, parameters, None);

    private async Task<Thing> StoredThingAsync(string name) =>
        await _s.Db.GetThingAsync(name) ?? throw new InvalidOperationException($"Thing {name} is not stored.");

    private async Task<Certificate> StoredCertificateAsync(string id) =>
        await _s.StoredCertificateAsync(id) ?? throw new InvalidOperationException($"Certificate {id} is not stored.");

    // ---- the seed template, as the seed's register-thing.js sends it ----

    [Fact]
    public async Task RegisterThingAsync_SeedTemplate_CreatesThingAndAttachesCertificateAndPolicy()
    {
        await SeedWorldAsync();
        var certificate = await _s.CreateCertificateAsync(active: true);

        var result = await RegisterAsync(Seed, SeedParameters("SN-0001", certificate.CertificateId));

        var thing = await StoredThingAsync("SN-0001");
        Assert.Equal(ThingType, thing.TypeName);
        Assert.Equal(Attrs(("serialNumber", "SN-0001")), thing.Attributes);
        Assert.Equal([Group], await _s.Db.GroupsOfThingAsync("SN-0001"));
        var principal = Assert.Single(await _s.PrincipalsOfThingAsync("SN-0001"));
        Assert.Equal(certificate.CertificateId, principal.PrincipalId);
        Assert.Equal([Policy], await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
        Assert.Equal(CertificateStatus.Active, (await StoredCertificateAsync(certificate.CertificateId)).Status);

        Assert.Equal(
            new Dictionary<string, ResourceRef>(StringComparer.Ordinal)
            {
                ["thing"] = new(ResourceKind.Thing, "SN-0001"),
                ["certificate"] = new(ResourceKind.Certificate, certificate.CertificateId),
                ["policy"] = new(ResourceKind.Policy, Policy),
            },
            result.Resources);
        Assert.Equal(certificate.Pem, result.CertificatePem);
    }

    [Fact]
    public async Task RegisterThingAsync_SeedTemplateSameSerialNewCertificate_ThingKeptBothCertificatesAttached()
    {
        await SeedWorldAsync();
        var first = await _s.CreateCertificateAsync(active: true);
        var second = await _s.CreateCertificateAsync(active: true);
        await RegisterAsync(Seed, SeedParameters("SN-0001", first.CertificateId));
        var thingId = (await StoredThingAsync("SN-0001")).ThingId;

        await RegisterAsync(Seed, SeedParameters("SN-0001", second.CertificateId));

        var thing = await StoredThingAsync("SN-0001");
        Assert.Equal(thingId, thing.ThingId);
        Assert.Equal(1, thing.Version);
        Assert.Equal(
            new[] { first.CertificateId, second.CertificateId }.Order(StringComparer.Ordinal),
            (await _s.PrincipalsOfThingAsync("SN-0001")).Select(p => p.PrincipalId));
        Assert.Equal([Policy], await _s.PoliciesOfCertificateAsync(second.CertificateId));
    }

    // ---- validation before anything is written ----

    [Fact]
    public async Task RegisterThingAsync_InvalidTemplate_InvalidRequestListingEveryPathAndNothingWritten()
    {
        await SeedWorldAsync();
        var certificate = await _s.CreateCertificateAsync(active: false);
        var template = JsonNode.Parse(Seed)!.AsObject();
        var thing = template["Resources"]!["thing"]!["Properties"]!.AsObject();
        thing["BillingGroup"] = "billing";
        thing["AttributePayload"]!.AsObject()["model"] = new JsonObject { ["Ref"] = "Undeclared" };
        template["Resources"]!["certificate"]!["Properties"]!.AsObject()["Status"] = "SOMETIMES";

        var exception = await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => RegisterAsync(template.ToJsonString(), SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Contains("Resources.thing.Properties.BillingGroup", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Resources.thing.Properties.AttributePayload.model", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Undeclared", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Resources.certificate.Properties.Status", exception.Message, StringComparison.Ordinal);
        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_MissingParameter_InvalidRequestNamingIt()
    {
        await SeedWorldAsync();

        var exception = await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => RegisterAsync(Seed, Attrs(("ThingName", "SN-0001"), ("SerialNumber", "SN-0001"))));

        Assert.Contains("CertificateId", exception.Message, StringComparison.Ordinal);
        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
    }

    [Fact]
    public async Task RegisterThingAsync_BadCsr_InvalidRequestAndNothingWritten()
    {
        await SeedWorldAsync();

        await ServiceAssert.ThrowsAsync(
            ErrorCode.InvalidRequest,
            () => RegisterAsync(CsrTemplate, Attrs(("ThingName", "csr-1"), ("CSR", SecurityServices.RsaCsr("CN=weak", 1024)))));

        Assert.Null(await _s.Db.GetThingAsync("csr-1"));
        Assert.Empty(await _s.AllCertificatesAsync());
    }

    // ---- one transaction: a failure while applying leaves nothing behind ----

    [Fact]
    public async Task RegisterThingAsync_StatusReplaceTemplate_ActivatesInactiveCertificate()
    {
        // The counterpart of the failure cases below: with everything present the same template does change the status.
        await SeedWorldAsync();
        var certificate = await _s.CreateCertificateAsync(active: false);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));

        await RegisterAsync(SeedWith(replaceCertificateStatus: true), SeedParameters("SN-0001", certificate.CertificateId));

        var stored = await StoredCertificateAsync(certificate.CertificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(2, stored.CustomerVersion);
        Assert.NotNull(await _s.Db.GetThingAsync("SN-0001"));
    }

    [Theory]
    [InlineData("group")]
    [InlineData("policy")]
    [InlineData("thingType")]
    public async Task RegisterThingAsync_ResourceMissingMidApply_RegistrationFailureAndNothingWritten(string missing)
    {
        await SeedWorldAsync(type: missing != "thingType", group: missing != "group", policy: missing != "policy");
        var certificate = await _s.CreateCertificateAsync(active: false);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceRegistrationFailure,
            () => RegisterAsync(SeedWith(replaceCertificateStatus: true), SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.PrincipalsOfThingAsync("SN-0001"));
        Assert.Empty(await _s.ThingsOfCertificateAsync(certificate.CertificateId));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
        var stored = await StoredCertificateAsync(certificate.CertificateId);
        Assert.Equal(CertificateStatus.Inactive, stored.Status);
        Assert.Equal(1, stored.CustomerVersion);
        Assert.Equal(Start, stored.LastModifiedAt);
        if (missing != "group")
        {
            Assert.Empty(await _s.Db.ThingsInGroupAsync(Group));
        }

        if (missing != "policy")
        {
            Assert.Empty(await _s.TargetsOfPolicyAsync(Policy));
        }
    }

    [Fact]
    public async Task RegisterThingAsync_NewThingInTwoGroupsOfOneHierarchy_FailsAndNothingWritten()
    {
        await SeedWorldAsync();
        await _s.CreateGroupAsync("NewDevicesLine2", parent: Group);
        var certificate = await _s.CreateCertificateAsync(active: true);
        var template = JsonNode.Parse(Seed)!.AsObject();
        template["Resources"]!["thing"]!["Properties"]!["ThingGroups"] = new JsonArray(Group, "NewDevicesLine2");

        var exception = await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(template.ToJsonString(), SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Contains("only one group of a hierarchy", exception.Message, StringComparison.Ordinal);
        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.Db.ThingsInGroupAsync(Group));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_NewThingGroupListedTwice_AddedOnce()
    {
        await SeedWorldAsync();
        await _s.CreateGroupAsync("Floor1");
        var certificate = await _s.CreateCertificateAsync(active: true);
        var template = JsonNode.Parse(Seed)!.AsObject();
        template["Resources"]!["thing"]!["Properties"]!["ThingGroups"] = new JsonArray(Group, "Floor1", Group);

        await RegisterAsync(template.ToJsonString(), SeedParameters("SN-0001", certificate.CertificateId));

        Assert.Equal(["SN-0001"], await _s.Db.ThingsInGroupAsync(Group));
        Assert.Equal(["SN-0001"], await _s.Db.ThingsInGroupAsync("Floor1"));
        Assert.Equal(["SN-0001"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_RevokedCertificate_FailsAndNothingWritten()
    {
        await SeedWorldAsync();
        var certificate = await _s.CreateCertificateAsync(active: true);
        await _s.Certificates.UpdateStatusAsync(certificate.CertificateId, CertificateStatus.Revoked, None);

        await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(Seed, SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
        Assert.Equal(CertificateStatus.Revoked, (await StoredCertificateAsync(certificate.CertificateId)).Status);
    }

    [Fact]
    public async Task RegisterThingAsync_RevokedCertificate_ErrorFromRegisterThingsModel()
    {
        await SeedWorldAsync();
        var certificate = await _s.CreateCertificateAsync(active: true);
        await _s.Certificates.UpdateStatusAsync(certificate.CertificateId, CertificateStatus.Revoked, None);

        var exception = await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(Seed, SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Contains(exception.Code, RegisterThingErrors);
    }

    [Fact]
    public async Task RegisterThingAsync_UnknownCertificateId_RegistrationFailureAndNothingWritten()
    {
        await SeedWorldAsync();

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceRegistrationFailure, () => RegisterAsync(Seed, SeedParameters("SN-0001", new string('a', 64))));

        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.TargetsOfPolicyAsync(Policy));
    }

    // ---- a certificate from a CSR ----

    private const string CsrTemplate = """
        {
          "Parameters": { "ThingName": { "Type": "String" }, "CSR": { "Type": "String" } },
          "Resources": {
            "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": { "Ref": "ThingName" }, "ThingGroups": ["NewDevices"] } },
            "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateSigningRequest": { "Ref": "CSR" }, "Status": "ACTIVE" } },
            "policy": { "Type": "AWS::IoT::Policy", "Properties": { "PolicyName": "DefaultNewDevicePolicy" } }
          }
        }
        """;

    [Fact]
    public async Task RegisterThingAsync_CsrTemplate_IssuesCertificateForTheCsr()
    {
        await SeedWorldAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=csr-device-1, O=Acme", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        var result = await RegisterAsync(CsrTemplate, Attrs(("ThingName", "csr-1"), ("CSR", csr)));

        Assert.NotNull(result.CertificatePem);
        using var issued = X509Certificate2.CreateFromPem(result.CertificatePem);
        Assert.Equal("CN=csr-device-1, O=Acme", issued.Subject);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), issued.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.True(CertificateInspector.IsIssuedBy(issued, _s.Authority.Issuing));

        var certificateId = Convert.ToHexStringLower(SHA256.HashData(issued.RawData));
        Assert.Equal(new ResourceRef(ResourceKind.Certificate, certificateId), result.Resources["certificate"]);
        var stored = await StoredCertificateAsync(certificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(_s.Authority.IssuingCertificateId, stored.CaCertificateId);
        Assert.Equal(result.CertificatePem, stored.Pem);
        Assert.Equal(["csr-1"], await _s.ThingsOfCertificateAsync(certificateId));
        Assert.Equal([Policy], await _s.PoliciesOfCertificateAsync(certificateId));
        Assert.Equal([Group], await _s.Db.GroupsOfThingAsync("csr-1"));
    }

    [Fact]
    public async Task RegisterThingAsync_CsrTemplateFailingMidApply_NoCertificateStored()
    {
        await SeedWorldAsync(group: false);

        await ServiceAssert.ThrowsAsync(
            ErrorCode.ResourceRegistrationFailure,
            () => RegisterAsync(CsrTemplate, Attrs(("ThingName", "csr-1"), ("CSR", SecurityServices.EcCsr("CN=csr-device-1")))));

        Assert.Empty(await _s.AllCertificatesAsync());
        Assert.Null(await _s.Db.GetThingAsync("csr-1"));
    }

    // ---- a policy from a document ----

    private const string PolicyDocumentTemplate = """
        {
          "Parameters": { "ThingName": { "Type": "String" }, "CertificateId": { "Type": "String" } },
          "Resources": {
            "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": { "Ref": "ThingName" } } },
            "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificateId": { "Ref": "CertificateId" } } },
            "policy": {
              "Type": "AWS::IoT::Policy",
              "Properties": {
                "PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"
              }
            }
          }
        }
        """;

    [Fact]
    public async Task RegisterThingAsync_PolicyDocumentTemplate_CreatesHashNamedPolicyOnceAndReusesIt()
    {
        var first = await _s.CreateCertificateAsync(active: true);
        var second = await _s.CreateCertificateAsync(active: true);
        var plan = TemplateEngine.Evaluate(PolicyDocumentTemplate, Attrs(("ThingName", "doc-1"), ("CertificateId", first.CertificateId))).Plan!;
        var document = plan.Policies[0].PolicyDocument!;
        var expectedName = TemplateEngine.PolicyNameForDocument(document);
        Assert.Matches("^[0-9A-F]{40}$", expectedName);

        var firstResult = await RegisterAsync(PolicyDocumentTemplate, Attrs(("ThingName", "doc-1"), ("CertificateId", first.CertificateId)));
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));
        var secondResult = await RegisterAsync(PolicyDocumentTemplate, Attrs(("ThingName", "doc-2"), ("CertificateId", second.CertificateId)));

        Assert.Equal(new ResourceRef(ResourceKind.Policy, expectedName), firstResult.Resources["policy"]);
        Assert.Equal(new ResourceRef(ResourceKind.Policy, expectedName), secondResult.Resources["policy"]);
        var policy = Assert.Single(await _s.AllPoliciesAsync());
        Assert.Equal(expectedName, policy.Name);
        Assert.Equal(Start, policy.CreatedAt);
        var got = await _s.Policies.GetAsync(expectedName, None);
        Assert.Equal(document, got.Version.Document);
        Assert.Single((await _s.Policies.ListVersionsAsync(expectedName, None)).Versions);
        Assert.Equal([expectedName], await _s.PoliciesOfCertificateAsync(first.CertificateId));
        Assert.Equal([expectedName], await _s.PoliciesOfCertificateAsync(second.CertificateId));
    }

    /// <summary>The errors the AWS model gives RegisterThing; SDKs and callers branch on these names.</summary>
    private static readonly ErrorCode[] RegisterThingErrors =
    [
        ErrorCode.InvalidRequest, ErrorCode.ResourceRegistrationFailure, ErrorCode.ConflictingResourceUpdate,
        ErrorCode.InternalFailure, ErrorCode.ServiceUnavailable, ErrorCode.Throttling, ErrorCode.Unauthorized,
    ];

    [Fact]
    public async Task RegisterThingAsync_MalformedPolicyDocument_FailsAndNothingWritten()
    {
        var certificate = await _s.CreateCertificateAsync(active: true);
        var template = PolicyDocumentTemplate.Replace("\\\"Allow\\\"", "\\\"Perhaps\\\"", StringComparison.Ordinal);
        Assert.NotEqual(PolicyDocumentTemplate, template);

        await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(template, Attrs(("ThingName", "doc-1"), ("CertificateId", certificate.CertificateId))));

        Assert.Null(await _s.Db.GetThingAsync("doc-1"));
        Assert.Empty(await _s.AllPoliciesAsync());
    }

    [Fact]
    public async Task RegisterThingAsync_MalformedPolicyDocument_ErrorFromRegisterThingsModel()
    {
        var certificate = await _s.CreateCertificateAsync(active: true);
        var template = PolicyDocumentTemplate.Replace("\\\"Allow\\\"", "\\\"Perhaps\\\"", StringComparison.Ordinal);

        var exception = await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(template, Attrs(("ThingName", "doc-1"), ("CertificateId", certificate.CertificateId))));

        Assert.Contains(exception.Code, RegisterThingErrors);
    }

    private const string CertificatePemTemplate = """
        {
          "Parameters": { "ThingName": { "Type": "String" }, "Pem": { "Type": "String" } },
          "Resources": {
            "thing": { "Type": "AWS::IoT::Thing", "Properties": { "ThingName": { "Ref": "ThingName" } } },
            "certificate": { "Type": "AWS::IoT::Certificate", "Properties": { "CertificatePem": { "Ref": "Pem" } } }
          }
        }
        """;

    [Fact]
    public async Task RegisterThingAsync_CertificatePemOfFleetkeyCa_RegistersItActive()
    {
        var (created, issued) = await _s.Certificates.CreateKeysAndCertificateAsync(false, None);
        await _s.Certificates.DeleteAsync(_s.Scope, created.CertificateId, false, None);

        var result = await RegisterAsync(CertificatePemTemplate, Attrs(("ThingName", "pem-1"), ("Pem", issued.CertificatePem)));

        Assert.Equal(new ResourceRef(ResourceKind.Certificate, created.CertificateId), result.Resources["certificate"]);
        var stored = await StoredCertificateAsync(created.CertificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(_s.Authority.IssuingCertificateId, stored.CaCertificateId);
        Assert.Equal(["pem-1"], await _s.ThingsOfCertificateAsync(created.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_CertificatePemOfOutsideCa_FailsAndNothingWritten()
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();

        var exception = await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(CertificatePemTemplate, Attrs(("ThingName", "pem-1"), ("Pem", leafPem))));

        Assert.NotSame(ErrorCode.InternalFailure, exception.Code);
        Assert.Null(await _s.Db.GetThingAsync("pem-1"));
        Assert.Empty(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterThingAsync_CertificatePemOfOutsideCa_ErrorFromRegisterThingsModel()
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();

        var exception = await Assert.ThrowsAsync<ServiceException>(() => RegisterAsync(CertificatePemTemplate, Attrs(("ThingName", "pem-1"), ("Pem", leafPem))));

        Assert.Contains(exception.Code, RegisterThingErrors);
    }

    // ---- an existing thing and OverrideSettings ----

    private async Task<Certificate> ExistingThingAsync(IReadOnlyDictionary<string, string> attributes)
    {
        await SeedWorldAsync();
        await _s.CreateThingAsync("SN-0001", ThingType, attributes);
        await _s.Db.ThingGroups.AddThingAsync(Group, "SN-0001", None);
        return await _s.CreateCertificateAsync(active: false);
    }

    public static TheoryData<string?, Dictionary<string, string>, long> AttributeOverrides => new()
    {
        { null, Attrs(("serialNumber", "old"), ("extra", "x")), 1 },
        { "DO_NOTHING", Attrs(("serialNumber", "old"), ("extra", "x")), 1 },
        { "REPLACE", Attrs(("serialNumber", "new")), 2 },
        { "MERGE", Attrs(("serialNumber", "new"), ("extra", "x")), 2 },
    };

    [Theory]
    [MemberData(nameof(AttributeOverrides))]
    public async Task RegisterThingAsync_ExistingThingWithAttributeOverride_AttributesAsTheSettingSays(string? setting, Dictionary<string, string> expected, long expectedVersion)
    {
        var certificate = await ExistingThingAsync(Attrs(("serialNumber", "old"), ("extra", "x")));

        await RegisterAsync(SeedWith(setting), SeedParameters("new", certificate.CertificateId, thingName: "SN-0001"));

        var thing = await StoredThingAsync("SN-0001");
        Assert.Equal(expected, thing.Attributes);
        Assert.Equal(expectedVersion, thing.Version);
        Assert.Equal(ThingType, thing.TypeName);
        Assert.Equal([Group], await _s.Db.GroupsOfThingAsync("SN-0001"));
        Assert.Equal(["SN-0001"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_ExistingThingFailOverrideWithDifference_RegistrationFailureAndNothingChanged()
    {
        var certificate = await ExistingThingAsync(Attrs(("serialNumber", "old"), ("extra", "x")));
        var before = await StoredThingAsync("SN-0001");

        var template = SeedWith("FAIL", replaceCertificateStatus: true);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceRegistrationFailure, () => RegisterAsync(template, SeedParameters("new", certificate.CertificateId, thingName: "SN-0001")));

        var after = await StoredThingAsync("SN-0001");
        Assert.Equal(before.Attributes, after.Attributes);
        Assert.Equal(before.Version, after.Version);
        Assert.Empty(await _s.PrincipalsOfThingAsync("SN-0001"));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
        Assert.Equal(CertificateStatus.Inactive, (await StoredCertificateAsync(certificate.CertificateId)).Status);
    }

    [Fact]
    public async Task RegisterThingAsync_ExistingThingFailOverrideNoDifference_Registers()
    {
        var certificate = await ExistingThingAsync(Attrs(("serialNumber", "same")));

        await RegisterAsync(SeedWith("FAIL"), SeedParameters("same", certificate.CertificateId, thingName: "SN-0001"));

        var thing = await StoredThingAsync("SN-0001");
        Assert.Equal(Attrs(("serialNumber", "same")), thing.Attributes);
        Assert.Equal(1, thing.Version);
        Assert.Equal(["SN-0001"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterThingAsync_NewThingOfDeprecatedType_InvalidRequestAndNothingWritten()
    {
        await SeedWorldAsync();
        await _s.Db.ThingTypes.DeprecateAsync(ThingType, undo: false, None);
        var certificate = await _s.CreateCertificateAsync(active: false);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => RegisterAsync(SeedWith(null), SeedParameters("SN-0001", certificate.CertificateId)));

        Assert.Null(await _s.Db.GetThingAsync("SN-0001"));
        Assert.Empty(await _s.ThingsOfCertificateAsync(certificate.CertificateId));
        Assert.Empty(await _s.Db.ThingsInGroupAsync(Group));
    }

    [Fact]
    public async Task RegisterThingAsync_ExistingThingOfTypeDeprecatedLater_Registers()
    {
        // A deprecated type refuses new things only: the existing thing keeps it and gets the certificate.
        var certificate = await ExistingThingAsync(Attrs(("serialNumber", "old")));
        await _s.Db.ThingTypes.DeprecateAsync(ThingType, undo: false, None);

        await RegisterAsync(SeedWith(null), SeedParameters("new", certificate.CertificateId, thingName: "SN-0001"));

        var thing = await StoredThingAsync("SN-0001");
        Assert.Equal(ThingType, thing.TypeName);
        Assert.Equal(Attrs(("serialNumber", "old")), thing.Attributes);
        Assert.Equal(["SN-0001"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>Certificates, policies, principals, RegisterThing and DescribeEndpoint through <see cref="IotClient"/> against a real <c>fleetkey serve</c>.</summary>
public sealed class SecurityOperationsTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private const string DevicePolicy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}""";
    private const string PublishPolicy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}""";

    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task Certificates_CreateDescribeListUpdateRegisterDelete_RoundTrip()
    {
        var keys = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true });
        using var issued = X509Certificate2.CreateFromPem(keys.CertificatePem);
        Assert.Equal(CertificateId(issued), keys.CertificateId);
        Assert.Equal(FleetkeyServer.Arn("cert", keys.CertificateId!), keys.CertificateArn);
        using (var privateKey = RSA.Create())
        {
            privateKey.ImportFromPem(keys.KeyPair!.PrivateKey);
            Assert.Equal(issued.GetRSAPublicKey()!.ExportSubjectPublicKeyInfo(), privateKey.ExportSubjectPublicKeyInfo());
        }

        using var csrKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=csr-device", csrKey, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var fromCsr = await _client.CreateCertificateFromCsrAsync(new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr });
        var description = (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = fromCsr.CertificateId! })).CertificateDescription!;
        Assert.Equal((CertificateStatus.Inactive, fromCsr.CertificateArn, FleetkeyServer.AccountId), (description.Status, description.CertificateArn, description.OwnedBy));
        Assert.NotNull(description.CaCertificateId);
        Assert.True(description.Validity?.NotBefore < DateTimeOffset.UtcNow && description.Validity?.NotAfter > DateTimeOffset.UtcNow.AddDays(30));
        using var fromCsrCertificate = X509Certificate2.CreateFromPem(fromCsr.CertificatePem);
        Assert.Equal(csrKey.ExportSubjectPublicKeyInfo(), fromCsrCertificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo());

        await _client.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = fromCsr.CertificateId!, NewStatus = CertificateStatus.Active });
        Assert.Equal(CertificateStatus.Active, (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = fromCsr.CertificateId! })).CertificateDescription?.Status);

        var listed = await _client.ListCertificatesAsync(new ListCertificatesRequest { AscendingOrder = true });
        Assert.Equal([keys.CertificateId, fromCsr.CertificateId], listed.Certificates!.Select(c => c.CertificateId));
        Assert.All(listed.Certificates!, c => Assert.Equal(CertificateStatus.Active, c.Status));
        var byCa = await _client.ListCertificatesByCAAsync(new ListCertificatesByCARequest { CaCertificateId = description.CaCertificateId! });
        Assert.Equal(new[] { keys.CertificateId, fromCsr.CertificateId }.Order(StringComparer.Ordinal), byCa.Certificates!.Select(c => c.CertificateId).Order(StringComparer.Ordinal));
        Assert.Equal(2, await _client.ListAllCertificatesByCAAsync(new ListCertificatesByCARequest { CaCertificateId = description.CaCertificateId!, PageSize = 1 }).CountAsync());

        // RegisterCertificate: the CSR certificate, deleted, comes back with its issuing CA (served at /ca.pem).
        await _client.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = fromCsr.CertificateId!, NewStatus = CertificateStatus.Inactive });
        await _client.DeleteCertificateAsync(new DeleteCertificateRequest { CertificateId = fromCsr.CertificateId! });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = fromCsr.CertificateId! }));
        var caPem = await IssuingCaPemAsync(description.CaCertificateId!);
        var registered = await _client.RegisterCertificateAsync(new RegisterCertificateRequest { CertificatePem = fromCsr.CertificatePem!, CaCertificatePem = caPem, Status = CertificateStatus.Active });
        Assert.Equal(fromCsr.CertificateId, registered.CertificateId);
        var registeredDescription = (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = registered.CertificateId! })).CertificateDescription!;
        Assert.Equal((CertificateStatus.Active, description.CaCertificateId), (registeredDescription.Status, registeredDescription.CaCertificateId));

        // RegisterCertificateWithoutCA: a self-signed certificate Fleetkey never saw.
        using var selfSignedKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var selfSigned = new CertificateRequest("CN=self-signed", selfSignedKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var withoutCa = await _client.RegisterCertificateWithoutCAAsync(new RegisterCertificateWithoutCARequest { CertificatePem = selfSigned.ExportCertificatePem(), Status = CertificateStatus.Inactive });
        Assert.Equal(CertificateId(selfSigned), withoutCa.CertificateId);
        var withoutCaDescription = (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = withoutCa.CertificateId! })).CertificateDescription!;
        Assert.Equal((CertificateStatus.Inactive, null), (withoutCaDescription.Status, withoutCaDescription.CaCertificateId));

        Assert.Equal(3, await _client.ListAllCertificatesAsync(new ListCertificatesRequest { PageSize = 2 }).CountAsync());

        await _client.UpdateCertificateAsync(new UpdateCertificateRequest { CertificateId = keys.CertificateId!, NewStatus = CertificateStatus.Revoked });
        await _client.DeleteCertificateAsync(new DeleteCertificateRequest { CertificateId = keys.CertificateId!, ForceDelete = true });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = keys.CertificateId! }));
    }

    [Fact]
    public async Task Policies_VersionsAttachmentsAndEffectivePolicies_RoundTrip()
    {
        var created = await _client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = "device-policy", PolicyDocument = DevicePolicy, Tags = [new Tag { Key = "owner", Value = "ops" }] });
        Assert.Equal(("device-policy", FleetkeyServer.Arn("policy", "device-policy"), "1"), (created.PolicyName, created.PolicyArn, created.PolicyVersionId));

        var policy = await _client.GetPolicyAsync(new GetPolicyRequest { PolicyName = "device-policy" });
        Assert.Equal("1", policy.DefaultVersionId);
        AssertSameJson(DevicePolicy, policy.PolicyDocument);
        Assert.NotNull(policy.CreationDate);

        var version2 = await _client.CreatePolicyVersionAsync(new CreatePolicyVersionRequest { PolicyName = "device-policy", PolicyDocument = PublishPolicy });
        Assert.Equal(("2", false), (version2.PolicyVersionId, version2.IsDefaultVersion));
        var versions = await _client.ListPolicyVersionsAsync(new ListPolicyVersionsRequest { PolicyName = "device-policy" });
        Assert.Equal([("1", true), ("2", false)], versions.PolicyVersions!.Select(v => (v.VersionId, v.IsDefaultVersion ?? false)).OrderBy(v => v.VersionId, StringComparer.Ordinal));
        var fetched = await _client.GetPolicyVersionAsync(new GetPolicyVersionRequest { PolicyName = "device-policy", PolicyVersionId = "2" });
        AssertSameJson(PublishPolicy, fetched.PolicyDocument);
        Assert.False(fetched.IsDefaultVersion);

        await _client.SetDefaultPolicyVersionAsync(new SetDefaultPolicyVersionRequest { PolicyName = "device-policy", PolicyVersionId = "2" });
        Assert.Equal("2", (await _client.GetPolicyAsync(new GetPolicyRequest { PolicyName = "device-policy" })).DefaultVersionId);
        await _client.DeletePolicyVersionAsync(new DeletePolicyVersionRequest { PolicyName = "device-policy", PolicyVersionId = "1" });
        Assert.Equal(["2"], (await _client.ListPolicyVersionsAsync(new ListPolicyVersionsRequest { PolicyName = "device-policy" })).PolicyVersions!.Select(v => v.VersionId));

        await _client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = "other-policy", PolicyDocument = DevicePolicy });
        Assert.Equal(["device-policy", "other-policy"], (await _client.ListPoliciesAsync()).Policies!.Select(p => p.PolicyName).Order(StringComparer.Ordinal));
        Assert.Equal(2, await _client.ListAllPoliciesAsync(new ListPoliciesRequest { PageSize = 1 }).CountAsync());

        var certificate = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true });
        var target = certificate.CertificateArn!;
        await _client.AttachPolicyAsync(new AttachPolicyRequest { PolicyName = "device-policy", Target = target });
        await _client.AttachPolicyAsync(new AttachPolicyRequest { PolicyName = "other-policy", Target = target });

        // The target is a URI label holding an ARN (':' and '/').
        var attached = await _client.ListAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = target });
        Assert.Equal(["device-policy", "other-policy"], attached.Policies!.Select(p => p.PolicyName).Order(StringComparer.Ordinal));
        Assert.Equal(2, await _client.ListAllAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = target, PageSize = 1 }).CountAsync());
        Assert.Equal([target], (await _client.ListTargetsForPolicyAsync(new ListTargetsForPolicyRequest { PolicyName = "device-policy" })).Targets);
        Assert.Equal([target], await _client.ListAllTargetsForPolicyAsync(new ListTargetsForPolicyRequest { PolicyName = "other-policy" }).ToListAsync());

        var effective = await _client.GetEffectivePoliciesAsync(new GetEffectivePoliciesRequest { Principal = target });
        var deviceEffective = Assert.Single(effective.EffectivePolicies!, p => p.PolicyName == "device-policy");
        Assert.Equal(FleetkeyServer.Arn("policy", "device-policy"), deviceEffective.PolicyArn);
        AssertSameJson(PublishPolicy, deviceEffective.PolicyDocument);

        // The same policies decide TestAuthorization: publish is allowed by device-policy, subscribe by none.
        var decisions = await _client.TestAuthorizationAsync(new TestAuthorizationRequest
        {
            Principal = target,
            AuthInfos =
            [
                new AuthInfo { ActionType = "PUBLISH", Resources = [FleetkeyServer.Arn("topic", "devices/door-1")] },
                new AuthInfo { ActionType = "SUBSCRIBE", Resources = [FleetkeyServer.Arn("topicfilter", "devices/#")] },
            ],
        });
        Assert.Equal(["ALLOWED", "IMPLICIT_DENY"], decisions.AuthResults!.Select(r => r.AuthDecision));
        Assert.Contains(decisions.AuthResults![0].Allowed!.Policies!, p => p.PolicyName == "device-policy");

        await _client.DetachPolicyAsync(new DetachPolicyRequest { PolicyName = "device-policy", Target = target });
        Assert.Equal(["other-policy"], (await _client.ListAttachedPoliciesAsync(new ListAttachedPoliciesRequest { Target = target })).Policies!.Select(p => p.PolicyName));

        await _client.DeletePolicyAsync(new DeletePolicyRequest { PolicyName = "device-policy" });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetPolicyAsync(new GetPolicyRequest { PolicyName = "device-policy" }));
    }

    [Fact]
    public async Task PrincipalPolicies_DeprecatedForms_AttachListInCreationOrderDetach()
    {
        await _client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = "principal-first", PolicyDocument = DevicePolicy });
        await _client.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = "principal-second", PolicyDocument = DevicePolicy });
        var certificate = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true });
        await _client.AttachPrincipalPolicyAsync(new AttachPrincipalPolicyRequest { PolicyName = "principal-second", Principal = certificate.CertificateArn! });
        await _client.AttachPrincipalPolicyAsync(new AttachPrincipalPolicyRequest { PolicyName = "principal-first", Principal = certificate.CertificateArn! });

        var ascending = await _client.ListPrincipalPoliciesAsync(new ListPrincipalPoliciesRequest { Principal = certificate.CertificateArn!, PageSize = 1 });
        Assert.Equal(["principal-first"], ascending.Policies!.Select(p => p.PolicyName));
        Assert.NotNull(ascending.NextMarker);
        var descending = await _client.ListAllPrincipalPoliciesAsync(new ListPrincipalPoliciesRequest { Principal = certificate.CertificateArn!, AscendingOrder = false, PageSize = 1 }).ToListAsync();
        Assert.Equal(["principal-second", "principal-first"], descending.Select(p => p.PolicyName));

        await _client.DetachPrincipalPolicyAsync(new DetachPrincipalPolicyRequest { PolicyName = "principal-first", Principal = certificate.CertificateArn! });
        Assert.Equal(
            ["principal-second"],
            (await _client.ListPrincipalPoliciesAsync(new ListPrincipalPoliciesRequest { Principal = certificate.CertificateArn! })).Policies!.Select(p => p.PolicyName));

        // The server is shared by this class's tests, which list every policy.
        await _client.DetachPrincipalPolicyAsync(new DetachPrincipalPolicyRequest { PolicyName = "principal-second", Principal = certificate.CertificateArn! });
        await _client.DeletePolicyAsync(new DeletePolicyRequest { PolicyName = "principal-first" });
        await _client.DeletePolicyAsync(new DeletePolicyRequest { PolicyName = "principal-second" });
    }

    [Fact]
    public async Task Principals_AttachListDetach_RoundTrip()
    {
        await _client.CreateThingAsync(new CreateThingRequest { ThingName = "door-1" });
        var certificate = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true });
        var principal = certificate.CertificateArn!;

        await _client.AttachThingPrincipalAsync(new AttachThingPrincipalRequest { ThingName = "door-1", Principal = principal });

        Assert.Equal([principal], (await _client.ListThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = "door-1" })).Principals);
        var v2 = Assert.Single((await _client.ListThingPrincipalsV2Async(new ListThingPrincipalsV2Request { ThingName = "door-1" })).ThingPrincipalObjects!);
        Assert.Equal((principal, ThingPrincipalType.NonExclusiveThing), (v2.Principal, v2.ThingPrincipalType));
        Assert.Equal(["door-1"], (await _client.ListPrincipalThingsAsync(new ListPrincipalThingsRequest { Principal = principal })).Things);
        Assert.Equal(["door-1"], await _client.ListAllPrincipalThingsAsync(new ListPrincipalThingsRequest { Principal = principal }).ToListAsync());
        var thingV2 = Assert.Single((await _client.ListPrincipalThingsV2Async(new ListPrincipalThingsV2Request { Principal = principal })).PrincipalThingObjects!);
        Assert.Equal("door-1", thingV2.ThingName);

        await _client.DetachThingPrincipalAsync(new DetachThingPrincipalRequest { ThingName = "door-1", Principal = principal });
        Assert.Empty((await _client.ListThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = "door-1" })).Principals!);
        Assert.Empty(await _client.ListAllThingPrincipalsV2Async(new ListThingPrincipalsV2Request { ThingName = "door-1" }).ToListAsync());
        Assert.Empty(await _client.ListAllPrincipalThingsV2Async(new ListPrincipalThingsV2Request { Principal = principal }).ToListAsync());
    }

    [Fact]
    public async Task RegisterThing_InlineTemplate_MakesThingAndBindsCertificate()
    {
        var certificate = await _client.CreateKeysAndCertificateAsync(new CreateKeysAndCertificateRequest { SetAsActive = true });
        const string Template = """
            {"Parameters":{"ThingName":{"Type":"String"},"CertificateId":{"Type":"String"}},
             "Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"ThingName"},"AttributePayload":{"model":"x1"}}},
                          "certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"CertificateId"}}}}}
            """;

        var registered = await _client.RegisterThingAsync(new RegisterThingRequest
        {
            TemplateBody = Template,
            Parameters = new Dictionary<string, string> { ["ThingName"] = "pump-7", ["CertificateId"] = certificate.CertificateId! },
        });

        Assert.Equal(new Dictionary<string, string> { ["thing"] = FleetkeyServer.Arn("thing", "pump-7"), ["certificate"] = certificate.CertificateArn! }, registered.ResourceArns);
        Assert.Equal("x1", (await _client.DescribeThingAsync(new DescribeThingRequest { ThingName = "pump-7" })).Attributes?["model"]);
        Assert.Equal([certificate.CertificateArn!], (await _client.ListThingPrincipalsAsync(new ListThingPrincipalsRequest { ThingName = "pump-7" })).Principals);
    }

    [Fact]
    public async Task DescribeEndpoint_DataTypes_NameTheBroker()
    {
        var legacy = await _client.DescribeEndpointAsync();
        var ats = await _client.DescribeEndpointAsync(new DescribeEndpointRequest { EndpointType = "iot:Data-ATS" });

        Assert.False(string.IsNullOrEmpty(legacy.EndpointAddress));
        Assert.Equal(legacy.EndpointAddress, ats.EndpointAddress);
        await Assert.ThrowsAsync<InvalidRequestException>(() => _client.DescribeEndpointAsync(new DescribeEndpointRequest { EndpointType = "iot:Jobs" }));
    }

    private static string CertificateId(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    private static void AssertSameJson(string expected, string? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual!)), actual);

    private async Task<string> IssuingCaPemAsync(string caCertificateId)
    {
        using var http = new HttpClient();
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await http.GetStringAsync(new Uri(server.Endpoint, "/ca.pem")));
        return chain.Single(c => CertificateId(c) == caCertificateId).ExportCertificatePem();
    }
}

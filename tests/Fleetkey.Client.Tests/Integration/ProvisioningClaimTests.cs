using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>CreateProvisioningClaim through <see cref="IotClient"/> against a real <c>fleetkey serve</c> (its own, so its template lists alone).</summary>
public sealed class ProvisioningClaimTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private const string RoleArn = "arn:aws:iam::000000000000:role/FleetkeyProvisioning";
    private const string OtherBody = """{"Parameters":{"SerialNumber":{"Type":"String"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"SerialNumber"}}}}}""";

    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task CreateProvisioningClaim_FleetTemplate_FiveMinuteCertificateNotListed()
    {
        await _client.CreateProvisioningTemplateAsync(new CreateProvisioningTemplateRequest { TemplateName = "claim-template", TemplateBody = OtherBody, ProvisioningRoleArn = RoleArn, Enabled = true });

        var claim = await _client.CreateProvisioningClaimAsync(new CreateProvisioningClaimRequest { TemplateName = "claim-template" });

        Assert.Matches("^[0-9a-f]{64}$", claim.CertificateId);
        Assert.Contains("PRIVATE KEY-----", claim.KeyPair!.PrivateKey, StringComparison.Ordinal);
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(claim.CertificatePem!);
        Assert.InRange(claim.Expiration!.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5.1));
        Assert.Equal(claim.Expiration.Value.ToUnixTimeSeconds(), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeSeconds());
        var listed = await _client.ListAllCertificatesAsync(new ListCertificatesRequest()).Select(c => c.CertificateId).ToListAsync();
        Assert.DoesNotContain(claim.CertificateId, listed);
        Assert.Equal("ACTIVE", (await _client.DescribeCertificateAsync(new DescribeCertificateRequest { CertificateId = claim.CertificateId! })).CertificateDescription?.Status);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.CreateProvisioningClaimAsync(new CreateProvisioningClaimRequest { TemplateName = "no-such-template" }));
    }
}

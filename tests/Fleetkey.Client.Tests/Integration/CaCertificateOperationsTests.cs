using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace Fleetkey.Client.Tests.Integration;

/// <summary>CA registration (registration code, RegisterCACertificate and its family) through <see cref="IotClient"/> against a real <c>fleetkey serve</c>.</summary>
public sealed class CaCertificateOperationsTests(FleetkeyServer server) : IClassFixture<FleetkeyServer>
{
    private readonly IotClient _client = server.CreateClient();

    [Fact]
    public async Task CaCertificates_RegisterDescribeListUpdateDelete_RoundTrip()
    {
        var code = (await _client.GetRegistrationCodeAsync()).RegistrationCode!;
        Assert.Matches("^[0-9a-f]{64}$", code);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateCa("CN=Client test CA", caKey);
        var registered = await _client.RegisterCACertificateAsync(new RegisterCACertificateRequest
        {
            CaCertificate = ca.ExportCertificatePem(),
            VerificationCertificate = Issue(ca, caKey, "CN=" + code).ExportCertificatePem(),
            SetAsActive = true,
            AllowAutoRegistration = true,
            RegistrationConfig = new RegistrationConfig { TemplateBody = """{"Resources":{}}""", RoleArn = "arn:aws:iam::000000000000:role/JITP" },
        });
        var caId = Convert.ToHexStringLower(SHA256.HashData(ca.RawData));
        Assert.Equal((caId, FleetkeyServer.Arn("cacert", caId)), (registered.CertificateId, registered.CertificateArn));

        var described = await _client.DescribeCACertificateAsync(new DescribeCACertificateRequest { CertificateId = caId });
        var d = described.CertificateDescription!;
        Assert.Equal((CACertificateStatus.Active, AutoRegistrationStatus.Enable, CertificateMode.Default, FleetkeyServer.AccountId), (d.Status, d.AutoRegistrationStatus, d.CertificateMode, d.OwnedBy));
        Assert.Equal("""{"Resources":{}}""", described.RegistrationConfig?.TemplateBody);

        // A wrong CN is refused with the registration-code error.
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = CreateCa("CN=Other CA", otherKey);
        await Assert.ThrowsAsync<RegistrationCodeValidationException>(() => _client.RegisterCACertificateAsync(new RegisterCACertificateRequest
        {
            CaCertificate = other.ExportCertificatePem(),
            VerificationCertificate = Issue(other, otherKey, "CN=" + new string('0', 64)).ExportCertificatePem(),
        }));

        var listed = await _client.ListCACertificatesAsync(new ListCACertificatesRequest { AscendingOrder = true });
        Assert.Equal([caId], listed.Certificates!.Select(c => c.CertificateId));

        await _client.UpdateCACertificateAsync(new UpdateCACertificateRequest { CertificateId = caId, NewStatus = CACertificateStatus.Inactive, RemoveAutoRegistration = true });
        var updated = await _client.DescribeCACertificateAsync(new DescribeCACertificateRequest { CertificateId = caId });
        Assert.Equal((CACertificateStatus.Inactive, AutoRegistrationStatus.Disable), (updated.CertificateDescription!.Status, updated.CertificateDescription.AutoRegistrationStatus));
        Assert.Null(updated.RegistrationConfig);

        await _client.DeleteCACertificateAsync(new DeleteCACertificateRequest { CertificateId = caId });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeCACertificateAsync(new DescribeCACertificateRequest { CertificateId = caId }));

        await _client.DeleteRegistrationCodeAsync();
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DeleteRegistrationCodeAsync());
        Assert.NotEqual(code, (await _client.GetRegistrationCodeAsync()).RegistrationCode);
    }

    private static X509Certificate2 CreateCa(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, ECDsa caKey, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var signer = X509CertificateLoader.LoadCertificate(ca.RawData).CopyWithPrivateKey(caKey);
        return request.Create(signer, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);
    }
}

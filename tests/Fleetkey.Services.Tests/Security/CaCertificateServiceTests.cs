using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class CaCertificateServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SecurityServices _s = new();
    private RegisteredCaTrust _trust = null!;
    private CaCertificateService _cas = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        _trust = new RegisteredCaTrust(_s.Db.Store, _s.Db.Time);
        _cas = new CaCertificateService(_s.Db.Store, _trust, _s.Db.Time);
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    /// <summary>A CA made as its owner would (EC P-256), with its key, and certificates it signs.</summary>
    internal sealed class OwnerCa : IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public OwnerCa(string subject, bool isCa = true)
        {
            var request = new CertificateRequest(subject, _key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, false, 0, true));
            Certificate = request.CreateSelfSigned(ServiceDatabase.Start.AddDays(-1), ServiceDatabase.Start.AddYears(5));
        }

        public X509Certificate2 Certificate { get; }

        public string Pem => Certificate.ExportCertificatePem();

        public X509Certificate2 Issue(string subject)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            return request.Create(Certificate, ServiceDatabase.Start.AddDays(-1), ServiceDatabase.Start.AddYears(1), RandomNumberGenerator.GetBytes(8));
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }

    private async Task<CaCertificate> RegisterAsync(OwnerCa ca, bool active = true, bool auto = false, CaRegistrationConfig? config = null)
    {
        var code = await _cas.GetRegistrationCodeAsync(_s.Scope, None);
        using var verification = ca.Issue("CN=" + code);
        return await _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(ca.Pem, verification.ExportCertificatePem(), active, auto, config, null, null), None);
    }

    [Fact]
    public async Task RegisterAsync_ValidVerification_StoresAndTrustsActiveCa()
    {
        using var ca = new OwnerCa("CN=Owner CA");

        var registered = await RegisterAsync(ca, auto: true);

        Assert.Equal((CertificateStatus.Active, AutoRegistrationStatus.Enable, CaCertificateMode.Default, false), (registered.Status, registered.AutoRegistrationStatus, registered.Mode, registered.Managed));
        Assert.Equal(registered, await _cas.DescribeAsync(registered.CertificateId, None));
        using var device = ca.Issue("CN=device-1");
        Assert.Equal(registered.CertificateId, _trust.FindIssuer(device)?.Record.CertificateId);
    }

    [Fact]
    public async Task RegisterAsync_WrongCommonName_IsRegistrationCodeValidation()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        await _cas.GetRegistrationCodeAsync(_s.Scope, None);
        using var verification = ca.Issue("CN=" + new string('a', 64));

        await ServiceAssert.ThrowsAsync(ErrorCode.RegistrationCodeValidation, () =>
            _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(ca.Pem, verification.ExportCertificatePem(), true, false, null, null, null), None));
    }

    [Fact]
    public async Task RegisterAsync_WithoutRegistrationCode_IsRegistrationCodeValidation()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        using var verification = ca.Issue("CN=" + new string('a', 64));

        await ServiceAssert.ThrowsAsync(ErrorCode.RegistrationCodeValidation, () =>
            _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(ca.Pem, verification.ExportCertificatePem(), true, false, null, null, null), None));
    }

    [Fact]
    public async Task RegisterAsync_VerificationSignedByAnotherKey_IsCertificateValidation()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        using var other = new OwnerCa("CN=Owner CA");
        var code = await _cas.GetRegistrationCodeAsync(_s.Scope, None);
        using var verification = other.Issue("CN=" + code);

        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateValidation, () =>
            _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(ca.Pem, verification.ExportCertificatePem(), true, false, null, null, null), None));
    }

    [Fact]
    public async Task RegisterAsync_NotACa_IsCertificateValidation()
    {
        using var notCa = new OwnerCa("CN=Leaf", isCa: false);
        using var other = new OwnerCa("CN=Other");
        using var verification = other.Issue("CN=" + await _cas.GetRegistrationCodeAsync(_s.Scope, None));

        // .NET will not sign with a non-CA certificate, so the verification comes from another CA: the CA check comes first.
        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateValidation, () =>
            _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(notCa.Pem, verification.ExportCertificatePem(), true, false, null, null, null), None), "CA:TRUE");
    }

    [Fact]
    public async Task RegisterAsync_EveryRequestProblem_ReportedTogether()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        var error = await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () =>
            _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(ca.Pem, null, true, false, new CaRegistrationConfig("[]", "t", null), "OTHER", null), None));

        Assert.Contains("certificateMode", error.Message, StringComparison.Ordinal);
        Assert.Contains("not both", error.Message, StringComparison.Ordinal);
        Assert.Contains("templateBody", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegisterAsync_TemplateNameOfFleetTemplate_IsInvalid_UnknownIsNotFound()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        var templates = new ProvisioningTemplateService(_s.Db.Store, _s.Db.Time);
        await templates.CreateAsync(new ProvisioningTemplateService.NewTemplate("fleet", """{"Resources":{}}""", "arn:aws:iam::123456789012:role/P"), None);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => RegisterAsync(ca, config: new CaRegistrationConfig(null, "fleet", null)), "JITP");
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => RegisterAsync(ca, config: new CaRegistrationConfig(null, "missing", null)));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _cas.DescribeAsync(Convert.ToHexStringLower(SHA256.HashData(ca.Certificate.RawData)), None));
    }

    [Fact]
    public async Task UpdateAsync_Inactive_IsNoLongerTrusted()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        var registered = await RegisterAsync(ca);
        using var device = ca.Issue("CN=device-1");

        await _cas.UpdateAsync(registered.CertificateId, new CaCertificateService.CaCertificateUpdate(CertificateStatus.Inactive, null, null, false), None);

        Assert.Null(_trust.FindIssuer(device));
        var stored = await _cas.DescribeAsync(registered.CertificateId, None);
        Assert.Equal((CertificateStatus.Inactive, 2L), (stored.Status, stored.CustomerVersion));
    }

    [Fact]
    public async Task DeleteAsync_ActiveOrWithDeviceCertificates_IsCertificateState()
    {
        using var ca = new OwnerCa("CN=Owner CA");
        var registered = await RegisterAsync(ca);
        using var device = ca.Issue("CN=device-1");
        var deviceCertificate = await _s.Certificates.RegisterAsync(device.ExportCertificatePem(), null, CertificateStatus.Inactive, null, None);
        Assert.Equal(registered.CertificateId, deviceCertificate.CaCertificateId);

        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateState, () => _cas.DeleteAsync(registered.CertificateId, None), "INACTIVE");
        await _cas.UpdateAsync(registered.CertificateId, new CaCertificateService.CaCertificateUpdate(CertificateStatus.Inactive, null, null, false), None);
        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateState, () => _cas.DeleteAsync(registered.CertificateId, None), "device certificates");

        await _s.Certificates.DeleteAsync(_s.Scope, deviceCertificate.CertificateId, false, None);
        await _cas.DeleteAsync(registered.CertificateId, None);
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _cas.DescribeAsync(registered.CertificateId, None));
    }

    [Fact]
    public async Task ManagedCa_CannotBeChangedOrDeleted_AndIsNotListed()
    {
        var managed = _s.Authority.IssuingCertificateId;

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _cas.DeleteAsync(managed, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => _cas.UpdateAsync(managed, new CaCertificateService.CaCertificateUpdate(CertificateStatus.Inactive, null, null, false), None));
        Assert.Empty((await _cas.ListAsync(null, true, new PageRequest(null, 10), None)).Items);
    }

    [Fact]
    public async Task RegistrationCode_SameUntilDeleted_DeleteWithoutCode_IsNotFound()
    {
        var code = await _cas.GetRegistrationCodeAsync(_s.Scope, None);
        Assert.Equal(code, await _cas.GetRegistrationCodeAsync(_s.Scope, None));

        await _cas.DeleteRegistrationCodeAsync(_s.Scope, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => _cas.DeleteRegistrationCodeAsync(_s.Scope, None));
        Assert.NotEqual(code, await _cas.GetRegistrationCodeAsync(_s.Scope, None));
    }
}

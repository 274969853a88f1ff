using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Services.Tests.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Provisioning;

public sealed class JustInTimeProvisioningTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private const string Template = """
        {
          "Parameters": {
            "AWS::IoT::Certificate::CommonName": {"Type": "String"},
            "AWS::IoT::Certificate::Organization": {"Type": "String"},
            "AWS::IoT::Certificate::SerialNumber": {"Type": "String"}
          },
          "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
              "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
              "AttributePayload": {"org": {"Ref": "AWS::IoT::Certificate::Organization"}, "serial": {"Ref": "AWS::IoT::Certificate::SerialNumber"}}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "jitp-policy"}}
          }
        }
        """;

    private readonly SecurityServices _s = new();
    private RegisteredCaTrust _trust = null!;
    private CaCertificateService _cas = null!;
    private JustInTimeProvisioning _jit = null!;
    private CaCertificateServiceTests.OwnerCa _ca = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        _trust = new RegisteredCaTrust(_s.Db.Store, _s.Db.Time);
        _cas = new CaCertificateService(_s.Db.Store, _trust, _s.Db.Time);
        var templates = new ProvisioningTemplateService(_s.Db.Store, _s.Db.Time);
        _jit = new JustInTimeProvisioning(_s.Db.Store, _trust, _s.Certificates, _s.Registration, new ProvisioningTemplateResolver(templates, _s.Scope));
        _ca = new CaCertificateServiceTests.OwnerCa("CN=Owner CA");
        await _s.CreatePolicyAsync("jitp-policy");
    }

    public async Task DisposeAsync()
    {
        _ca.Dispose();
        await _s.DisposeAsync();
    }

    private async Task<CaCertificate> RegisterCaAsync(bool auto, CaRegistrationConfig? config)
    {
        var code = await _cas.GetRegistrationCodeAsync(_s.Scope, None);
        using var verification = _ca.Issue("CN=" + code);
        return await _cas.RegisterAsync(_s.Scope, new CaCertificateService.NewCaCertificate(_ca.Pem, verification.ExportCertificatePem(), true, auto, config, null, null), None);
    }

    [Fact]
    public async Task RegisterAsync_NoRegistrationConfig_RegistersPendingActivation_AgainForPending()
    {
        var ca = await RegisterCaAsync(auto: true, config: null);
        using var device = _ca.Issue("CN=sensor-1");

        var first = await _jit.RegisterAsync(device, None);
        var second = await _jit.RegisterAsync(device, None);

        Assert.Equal((JustInTimeOutcome.PendingActivation, CertificateStatus.PendingActivation, ca.CertificateId), (first!.Outcome, first.Certificate.Status, first.Certificate.CaCertificateId));
        Assert.Equal((JustInTimeOutcome.PendingActivation, first.Certificate.CertificateId), (second!.Outcome, second.Certificate.CertificateId));
        Assert.Equal(CertificateStatus.PendingActivation, (await _s.StoredCertificateAsync(first.Certificate.CertificateId))!.Status);
    }

    [Fact]
    public async Task RegisterAsync_AutoRegistrationDisabled_OrActiveCertificate_DoesNothing()
    {
        var ca = await RegisterCaAsync(auto: false, config: null);
        using var device = _ca.Issue("CN=sensor-1");
        Assert.Null(await _jit.RegisterAsync(device, None));
        Assert.Empty(await _s.AllCertificatesAsync() is var all ? all.Where(c => c.CaCertificateId == ca.CertificateId) : []);

        await _cas.UpdateAsync(ca.CertificateId, new CaCertificateService.CaCertificateUpdate(null, AutoRegistrationStatus.Enable, null, false), None);
        var registered = await _jit.RegisterAsync(device, None);
        await _s.Certificates.UpdateStatusAsync(registered!.Certificate.CertificateId, CertificateStatus.Active, None);
        Assert.Null(await _jit.RegisterAsync(device, None));
    }

    [Fact]
    public async Task RegisterAsync_TemplateBody_ProvisionsThingPolicyAndActiveCertificate()
    {
        await RegisterCaAsync(auto: true, config: new CaRegistrationConfig(Template, null, null));
        using var device = _ca.Issue("CN=sensor-7, O=Acme, SERIALNUMBER=SN-0007");

        var result = await _jit.RegisterAsync(device, None);

        Assert.Equal((JustInTimeOutcome.Provisioned, CertificateStatus.Active), (result!.Outcome, result.Certificate.Status));
        var thing = await _s.Db.GetThingAsync("sensor-7");
        Assert.Equal(ServiceDatabase.Attrs(("org", "Acme"), ("serial", "SN-0007")), thing!.Attributes);
        Assert.Equal(["sensor-7"], await _s.ThingsOfCertificateAsync(result.Certificate.CertificateId));
        Assert.Equal(["jitp-policy"], await _s.PoliciesOfCertificateAsync(result.Certificate.CertificateId));
    }

    [Fact]
    public async Task RegisterAsync_JitpTemplateByName_Provisions()
    {
        var templates = new ProvisioningTemplateService(_s.Db.Store, _s.Db.Time);
        await templates.CreateAsync(new ProvisioningTemplateService.NewTemplate("jitp", Template, "arn:aws:iam::123456789012:role/P", Enabled: true, Type: ProvisioningTemplateType.Jitp), None);
        await RegisterCaAsync(auto: true, config: new CaRegistrationConfig(null, "jitp", null));
        using var device = _ca.Issue("CN=sensor-8, O=Acme, SERIALNUMBER=SN-0008");

        var result = await _jit.RegisterAsync(device, None);

        Assert.Equal(JustInTimeOutcome.Provisioned, result!.Outcome);
        Assert.NotNull(await _s.Db.GetThingAsync("sensor-8"));
    }

    [Fact]
    public async Task RegisterAsync_SubjectLacksDeclaredParameter_FailsAndWritesNothing()
    {
        await RegisterCaAsync(auto: true, config: new CaRegistrationConfig(Template, null, null));
        using var device = _ca.Issue("CN=sensor-9, O=Acme");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceRegistrationFailure, () => _jit.RegisterAsync(device, None), "AWS::IoT::Certificate::SerialNumber");

        Assert.Null(await _s.Db.GetThingAsync("sensor-9"));
        Assert.DoesNotContain(await _s.AllCertificatesAsync(), c => c.Status == CertificateStatus.PendingActivation);
    }

    [Fact]
    public async Task RegisterAsync_TemplateFailsWhileApplying_RollsBackTheCertificate()
    {
        var missingPolicy = Template.Replace("jitp-policy", "no-such-policy", StringComparison.Ordinal);
        await RegisterCaAsync(auto: true, config: new CaRegistrationConfig(missingPolicy, null, null));
        using var device = _ca.Issue("CN=sensor-10, O=Acme, SERIALNUMBER=SN-10");

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceRegistrationFailure, () => _jit.RegisterAsync(device, None));

        Assert.Null(await _s.Db.GetThingAsync("sensor-10"));
        Assert.DoesNotContain(await _s.AllCertificatesAsync(), c => c.Status == CertificateStatus.PendingActivation);
    }

    [Fact]
    public async Task RegisterAsync_CertificateOfUnregisteredCa_IsNull()
    {
        using var stranger = new CaCertificateServiceTests.OwnerCa("CN=Stranger");
        using var device = stranger.Issue("CN=x");

        Assert.Null(await _jit.RegisterAsync(device, None));
    }
}

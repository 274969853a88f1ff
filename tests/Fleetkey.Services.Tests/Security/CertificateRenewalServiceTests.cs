using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

/// <summary>Renewal over EST on both stores: what the new certificate inherits, and when the old one is retired.</summary>
public sealed class CertificateRenewalServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Grace = TimeSpan.FromDays(7);
    private readonly SecurityServices _s = new();
    private CertificateRenewalService _renewals = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        _renewals = new CertificateRenewalService(
            _s.Db.Store, _s.Authority, _s.Certificates, Options.Create(new CertificateRenewalOptions { Grace = Grace }), _s.Db.Time, NullLogger<CertificateRenewalService>.Instance);
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    [Fact]
    public async Task RenewAsync_ActiveCertificate_NewOneOnTheSameThingsWithTheSamePoliciesBothActive()
    {
        var (old, presented, _) = await DeviceAsync("sensor-1");
        await _s.CreatePolicyAsync("device-policy");
        await _s.Policies.AttachAsync(_s.Scope, "device-policy", _s.CertificateArn(old.CertificateId), None);

        var renewed = await _renewals.RenewAsync(presented, NewCsr(), None);

        Assert.Equal(CertificateStatus.Active, renewed.Status);
        Assert.Equal(["sensor-1"], await _s.ThingsOfCertificateAsync(renewed.CertificateId));
        Assert.Equal(["device-policy"], await _s.PoliciesOfCertificateAsync(renewed.CertificateId));
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);
        using var issued = X509Certificate2.CreateFromPem(renewed.Pem);
        Assert.Equal(presented.SubjectName.Name, issued.SubjectName.Name);
        var pending = await _renewals.FindPendingAsync(old.CertificateId, None);
        Assert.Equal((renewed.CertificateId, _s.Db.Time.GetUtcNow() + Grace), (pending!.NewCertificateId, pending.DeactivateAt));
    }

    [Fact]
    public async Task RenewAsync_CsrForTheCurrentKey_RefusedAndNothingStored()
    {
        var (old, presented, key) = await DeviceAsync("sensor-2");

        var refused = await Assert.ThrowsAsync<ServiceException>(() => _renewals.RenewAsync(presented, Csr(key), None));

        Assert.Equal(ErrorCode.InvalidRequest, refused.Code);
        Assert.Contains("new key", refused.Message, StringComparison.Ordinal);
        Assert.Null(await _renewals.FindPendingAsync(old.CertificateId, None));
        Assert.Equal([old.CertificateId], (await _s.PrincipalsOfThingAsync("sensor-2")).Select(p => p.PrincipalId));
    }

    [Theory]
    [InlineData(CertificateStatus.Inactive)]
    [InlineData(CertificateStatus.Revoked)]
    [InlineData("expired")]
    [InlineData("unknown")]
    public async Task RenewAsync_NotAnActiveKnownValidCertificate_Unauthorized(string state)
    {
        var (old, presented, _) = await DeviceAsync("sensor-3");
        switch (state)
        {
            case "expired":
                _s.Db.Time.SetUtcNow(old.NotAfter.AddSeconds(1));
                break;
            case "unknown":
                using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    presented = new CertificateRequest("CN=sensor-3", stranger, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
                }

                break;
            default:
                await _s.Certificates.UpdateStatusAsync(old.CertificateId, state, None);
                break;
        }

        var refused = await Assert.ThrowsAsync<ServiceException>(() => _renewals.RenewAsync(presented, NewCsr(), None));

        Assert.Equal(ErrorCode.Unauthorized, refused.Code);
        Assert.Equal([old.CertificateId], (await _s.PrincipalsOfThingAsync("sensor-3")).Select(p => p.PrincipalId));
    }

    [Fact]
    public async Task RetireDueAsync_GracePeriodEnded_OldOneInactiveNewOneStays()
    {
        var (old, presented, _) = await DeviceAsync("sensor-4");
        var renewed = await _renewals.RenewAsync(presented, NewCsr(), None);

        _s.Db.Time.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await _renewals.RetireDueAsync(None));
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);

        _s.Db.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await _renewals.RetireDueAsync(None));
        Assert.Equal(CertificateStatus.Inactive, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(renewed.CertificateId))!.Status);
        Assert.Null(await _renewals.FindPendingAsync(old.CertificateId, None));
        Assert.Equal(0, await _renewals.RetireDueAsync(None));
    }

    [Fact]
    public async Task CompleteAsync_SuccessorConnects_OldOneRetiredAtOnce()
    {
        var (old, presented, _) = await DeviceAsync("sensor-5");
        var renewed = await _renewals.RenewAsync(presented, NewCsr(), None);

        await _renewals.CompleteAsync(old.CertificateId, None);
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);

        await _renewals.CompleteAsync(renewed.CertificateId, None);
        Assert.Equal(CertificateStatus.Inactive, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);
        Assert.Null(await _renewals.FindPendingAsync(old.CertificateId, None));
    }

    [Fact]
    public async Task RenewAsync_AgainWithTheOldCertificate_EarlierSuccessorRetiredLatestPending()
    {
        var (old, presented, _) = await DeviceAsync("sensor-6");
        var lost = await _renewals.RenewAsync(presented, NewCsr(), None);

        // Not at once: one renewal a minute per certificate.
        var throttled = await Assert.ThrowsAsync<ServiceException>(() => _renewals.RenewAsync(presented, NewCsr(), None));
        Assert.Equal(ErrorCode.TooManyRequests, throttled.Code);
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(lost.CertificateId))!.Status);

        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));
        var second = await _renewals.RenewAsync(presented, NewCsr(), None);

        Assert.Equal(CertificateStatus.Inactive, (await _s.StoredCertificateAsync(lost.CertificateId))!.Status);
        Assert.Equal(CertificateStatus.Active, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);
        Assert.Equal(second.CertificateId, (await _renewals.FindPendingAsync(old.CertificateId, None))!.NewCertificateId);
    }

    [Fact]
    public async Task RenewAsync_WithTheSuccessor_ItsPredecessorRetiredAtOnce()
    {
        var (old, presented, _) = await DeviceAsync("sensor-7");
        var first = await _renewals.RenewAsync(presented, NewCsr(), None);
        using var firstPresented = X509Certificate2.CreateFromPem(first.Pem);

        var second = await _renewals.RenewAsync(firstPresented, NewCsr(), None);

        Assert.Equal(CertificateStatus.Inactive, (await _s.StoredCertificateAsync(old.CertificateId))!.Status);
        Assert.Equal(second.CertificateId, (await _renewals.FindPendingAsync(first.CertificateId, None))!.NewCertificateId);
        Assert.Equal(["sensor-7"], await _s.ThingsOfCertificateAsync(second.CertificateId));
    }

    /// <summary>A thing with an ACTIVE certificate attached: the certificate, as the device presents it, and its key.</summary>
    private async Task<(Certificate Certificate, X509Certificate2 Presented, ECDsa Key)> DeviceAsync(string thing)
    {
        await _s.CreateThingAsync(thing);
        var (certificate, issued) = await _s.Certificates.CreateKeysAndCertificateAsync(setAsActive: true, None);
        await _s.Principals.AttachAsync(_s.Scope, thing, _s.CertificateArn(certificate.CertificateId), null, None);
        var key = ECDsa.Create();
        key.ImportFromPem(issued.PrivateKeyPem);
        return (certificate, X509Certificate2.CreateFromPem(issued.CertificatePem), key);
    }

    private static string NewCsr()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return Csr(key);
    }

    private static string Csr(ECDsa key) => new CertificateRequest("CN=whatever-the-device-asks", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
}

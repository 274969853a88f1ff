using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

public sealed class CertificateServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SecurityServices _s = new();

    public Task InitializeAsync() => _s.InitializeAsync();

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private CertificateService Certificates => _s.Certificates;

    private async Task<Certificate> StoredAsync(string id) =>
        await _s.StoredCertificateAsync(id) ?? throw new InvalidOperationException($"Certificate {id} is not stored.");

    // ---- CreateKeysAndCertificateAsync ----

    [Theory]
    [InlineData(true, CertificateStatus.Active)]
    [InlineData(false, CertificateStatus.Inactive)]
    public async Task CreateKeysAndCertificateAsync_SetAsActive_StoresStatus(bool setAsActive, string expected)
    {
        var (certificate, _) = await Certificates.CreateKeysAndCertificateAsync(setAsActive, None);

        Assert.Equal(expected, certificate.Status);
        Assert.Equal(expected, (await StoredAsync(certificate.CertificateId)).Status);
    }

    [Fact]
    public async Task CreateKeysAndCertificateAsync_New_StoresIssuedPemUnderManagedCa()
    {
        var (certificate, issued) = await Certificates.CreateKeysAndCertificateAsync(true, None);

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(issued.CertificateId, stored.CertificateId);
        Assert.Equal(issued.CertificatePem, stored.Pem);
        Assert.Equal(_s.Authority.IssuingCertificateId, stored.CaCertificateId);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
        Assert.Equal(ServiceDatabase.Start, stored.LastModifiedAt);
        Assert.Equal(1, stored.CustomerVersion);

        // The id is the SHA-256 of the DER, and the key returned belongs to the certificate.
        using var x509 = X509Certificate2.CreateFromPem(stored.Pem);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(x509.RawData)), stored.CertificateId);
        using var key = ECDsa.Create();
        key.ImportFromPem(issued.PrivateKeyPem);
        using var withKey = x509.CopyWithPrivateKey(key);
        Assert.True(withKey.HasPrivateKey);
        Assert.True(CertificateInspector.IsIssuedBy(x509, _s.Authority.Issuing));
    }

    [Fact]
    public async Task EnsureManagedCaAsync_Twice_KeepsOneManagedCa()
    {
        await Certificates.EnsureManagedCaAsync(None);

        var cas = await _s.Db.Store.ReadAsync((session, ct) => session.CaCertificates.ListAsync(ct), None);
        var ca = Assert.Single(cas);
        Assert.Equal(_s.Authority.IssuingCertificateId, ca.CertificateId);
        Assert.True(ca.Managed);
        Assert.Equal(CertificateStatus.Active, ca.Status);
    }

    // ---- CreateFromCsrAsync ----

    [Fact]
    public async Task CreateFromCsrAsync_EcCsr_KeepsSubjectAndKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=device-7, O=Acme", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        var certificate = await Certificates.CreateFromCsrAsync(csr, setAsActive: true, None);

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(_s.Authority.IssuingCertificateId, stored.CaCertificateId);
        using var x509 = X509Certificate2.CreateFromPem(stored.Pem);
        Assert.Equal("CN=device-7, O=Acme", x509.Subject);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), x509.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.True(CertificateInspector.IsIssuedBy(x509, _s.Authority.Issuing));
    }

    // The subject rule (issue 16): an operator's CSR keeps its subject; a device's never does.
    [Theory]
    [InlineData(CsrRequester.Operator, null, "CN=SN-A, O=Evil, OU=admin")]
    [InlineData(CsrRequester.Operator, "thing-1", "CN=SN-A, O=Evil, OU=admin")]
    [InlineData(CsrRequester.Device, "thing-1", "CN=thing-1")]
    [InlineData(CsrRequester.Device, null, CertificateAuthority.DeviceSubject)]
    public void IssueFromCsr_ByRequester_SubjectAsTheRuleSays(CsrRequester requester, string? thingName, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=SN-A, O=Evil, OU=admin", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("admin.example.com");
        request.CertificateExtensions.Add(names.Build());

        var issued = Certificates.IssueFromCsr(request.CreateSigningRequestPem(), requester, thingName);

        using var x509 = X509Certificate2.CreateFromPem(issued.CertificatePem);
        Assert.Equal(subject, x509.Subject);
        Assert.Null(x509.Extensions["2.5.29.17"]);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), x509.PublicKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task CreateFromCsrAsync_NotActive_StoresInactive()
    {
        var certificate = await Certificates.CreateFromCsrAsync(SecurityServices.EcCsr("CN=device-8"), setAsActive: false, None);

        Assert.Equal(CertificateStatus.Inactive, (await StoredAsync(certificate.CertificateId)).Status);
    }

    public static TheoryData<string, string> BadCsrs => new()
    {
        { "rsa-1024", SecurityServices.RsaCsr("CN=weak", 1024) },
        { "garbage", "not a certificate signing request" },
        { "truncated", SecurityServices.EcCsr("CN=cut")[..60] },
    };

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public async Task CreateFromCsrAsync_BadCsr_InvalidRequestAndNothingStored(string label, string csr)
    {
        _ = label;
        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Certificates.CreateFromCsrAsync(csr, true, None));

        Assert.Empty(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task CreateFromCsrAsync_Rsa2048_Accepted()
    {
        var certificate = await Certificates.CreateFromCsrAsync(SecurityServices.RsaCsr("CN=strong", 2048), false, None);

        Assert.NotNull(await _s.StoredCertificateAsync(certificate.CertificateId));
    }

    // ---- RegisterAsync / RegisterWithoutCaAsync ----

    [Fact]
    public async Task RegisterAsync_FleetkeyIssuedAfterDelete_FindsManagedCa()
    {
        var (created, issued) = await Certificates.CreateKeysAndCertificateAsync(false, None);
        await Certificates.DeleteAsync(_s.Scope, created.CertificateId, false, None);
        Assert.Null(await _s.StoredCertificateAsync(created.CertificateId));
        _s.Db.Time.Advance(TimeSpan.FromMinutes(3));

        var registered = await Certificates.RegisterAsync(issued.CertificatePem, null, null, setAsActive: true, None);

        var stored = await StoredAsync(registered.CertificateId);
        Assert.Equal(created.CertificateId, stored.CertificateId);
        Assert.Equal(_s.Authority.IssuingCertificateId, stored.CaCertificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(ServiceDatabase.Start.AddMinutes(3), stored.CreatedAt);
    }

    [Fact]
    public async Task RegisterAsync_WithManagedCaPem_Registers()
    {
        var (created, issued) = await Certificates.CreateKeysAndCertificateAsync(false, None);
        await Certificates.DeleteAsync(_s.Scope, created.CertificateId, false, None);

        var registered = await Certificates.RegisterAsync(issued.CertificatePem, _s.Authority.Issuing.ExportCertificatePem(), null, null, None);

        Assert.Equal(CertificateStatus.Inactive, registered.Status);
        Assert.Equal(_s.Authority.IssuingCertificateId, (await StoredAsync(created.CertificateId)).CaCertificateId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RegisterAsync_OutsideCaLeaf_CertificateValidationAndNothingStored(bool passCaPem)
    {
        var (caPem, leafPem) = SecurityServices.OutsideCaAndLeaf();

        await ServiceAssert.ThrowsAsync(
            ErrorCode.CertificateValidation,
            () => Certificates.RegisterAsync(leafPem, passCaPem ? caPem : null, CertificateStatus.Active, null, None));

        Assert.Empty(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterAsync_Garbage_CertificateValidation()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateValidation, () => Certificates.RegisterAsync("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", null, null, null, None));
    }

    [Fact]
    public async Task RegisterWithoutCaAsync_NoStatus_InactiveWithoutCa()
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();

        var registered = await Certificates.RegisterWithoutCaAsync(leafPem, null, None);

        var stored = await StoredAsync(registered.CertificateId);
        Assert.Equal(CertificateStatus.Inactive, stored.Status);
        Assert.Null(stored.CaCertificateId);
        using var x509 = X509Certificate2.CreateFromPem(leafPem);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(x509.RawData)), stored.CertificateId);
    }

    [Fact]
    public async Task RegisterWithoutCaAsync_ActiveRequested_Active()
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();

        var registered = await Certificates.RegisterWithoutCaAsync(leafPem, CertificateStatus.Active, None);

        Assert.Equal(CertificateStatus.Active, (await StoredAsync(registered.CertificateId)).Status);
    }

    [Fact]
    public async Task RegisterWithoutCaAsync_CaCertificate_CertificateValidation()
    {
        var (caPem, _) = SecurityServices.OutsideCaAndLeaf();

        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateValidation, () => Certificates.RegisterWithoutCaAsync(caPem, null, None));
    }

    [Fact]
    public async Task RegisterWithoutCaAsync_SameCertificateTwice_ResourceAlreadyExists()
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();
        await Certificates.RegisterWithoutCaAsync(leafPem, null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => Certificates.RegisterWithoutCaAsync(leafPem, null, None));
        Assert.Single(await _s.AllCertificatesAsync());
    }

    [Fact]
    public async Task RegisterAsync_AlreadyIssued_ResourceAlreadyExists()
    {
        var (_, issued) = await Certificates.CreateKeysAndCertificateAsync(false, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => Certificates.RegisterAsync(issued.CertificatePem, null, null, true, None));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceAlreadyExists, () => Certificates.RegisterWithoutCaAsync(issued.CertificatePem, null, None));
        Assert.Single(await _s.AllCertificatesAsync());
    }

    [Theory]
    [InlineData(CertificateStatus.PendingTransfer)]
    [InlineData(CertificateStatus.PendingActivation)]
    [InlineData(CertificateStatus.RegisterInactive)]
    public async Task RegisterWithoutCaAsync_InternalStatus_InvalidRequest(string status)
    {
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Certificates.RegisterWithoutCaAsync(leafPem, status, None));
        Assert.Empty(await _s.AllCertificatesAsync());
    }

    // ---- UpdateStatusAsync ----

    [Theory]
    [InlineData(CertificateStatus.Active, CertificateStatus.Inactive)]
    [InlineData(CertificateStatus.Inactive, CertificateStatus.Active)]
    [InlineData(CertificateStatus.Active, CertificateStatus.Revoked)]
    [InlineData(CertificateStatus.Inactive, CertificateStatus.Revoked)]
    public async Task UpdateStatusAsync_AllowedTransition_StoresStatusVersionAndTime(string from, string to)
    {
        var certificate = await _s.CreateCertificateAsync(active: from == CertificateStatus.Active);
        _s.Db.Time.Advance(TimeSpan.FromSeconds(90));

        await Certificates.UpdateStatusAsync(certificate.CertificateId, to, None);

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(to, stored.Status);
        Assert.Equal(2, stored.CustomerVersion);
        Assert.Equal(ServiceDatabase.Start.AddSeconds(90), stored.LastModifiedAt);
        Assert.Equal(ServiceDatabase.Start, stored.CreatedAt);
        Assert.NotEqual(certificate.GenerationId, stored.GenerationId);
    }

    [Fact]
    public async Task UpdateStatusAsync_SeveralChanges_CustomerVersionCountsThem()
    {
        var certificate = await _s.CreateCertificateAsync(active: false);

        foreach (var status in new[] { CertificateStatus.Active, CertificateStatus.Inactive, CertificateStatus.Active })
        {
            _s.Db.Time.Advance(TimeSpan.FromSeconds(1));
            await Certificates.UpdateStatusAsync(certificate.CertificateId, status, None);
        }

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(4, stored.CustomerVersion);
        Assert.Equal(ServiceDatabase.Start.AddSeconds(3), stored.LastModifiedAt);
    }

    [Theory]
    [InlineData(CertificateStatus.Active)]
    [InlineData(CertificateStatus.Inactive)]
    public async Task UpdateStatusAsync_FromRevoked_CertificateStateAndUnchanged(string to)
    {
        var certificate = await _s.CreateCertificateAsync(active: true);
        await Certificates.UpdateStatusAsync(certificate.CertificateId, CertificateStatus.Revoked, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateState, () => Certificates.UpdateStatusAsync(certificate.CertificateId, to, None));

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(CertificateStatus.Revoked, stored.Status);
        Assert.Equal(2, stored.CustomerVersion);
    }

    [Theory]
    [InlineData(CertificateStatus.PendingTransfer)]
    [InlineData(CertificateStatus.PendingActivation)]
    [InlineData(CertificateStatus.RegisterInactive)]
    public async Task UpdateStatusAsync_InternalStatusRequested_InvalidRequestAndUnchanged(string to)
    {
        var certificate = await _s.CreateCertificateAsync(active: true);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Certificates.UpdateStatusAsync(certificate.CertificateId, to, None));

        var stored = await StoredAsync(certificate.CertificateId);
        Assert.Equal(CertificateStatus.Active, stored.Status);
        Assert.Equal(1, stored.CustomerVersion);
    }

    [Fact]
    public async Task UpdateStatusAsync_UnknownStatusWord_InvalidRequestAndUnchanged()
    {
        var certificate = await _s.CreateCertificateAsync(active: true);

        await ServiceAssert.ThrowsAsync(ErrorCode.InvalidRequest, () => Certificates.UpdateStatusAsync(certificate.CertificateId, "BOGUS", None));

        Assert.Equal(CertificateStatus.Active, (await StoredAsync(certificate.CertificateId)).Status);
    }

    [Fact]
    public async Task UpdateStatusAsync_Missing_ResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Certificates.UpdateStatusAsync(new string('a', 64), CertificateStatus.Active, None));
    }

    // ---- DeleteAsync ----

    [Fact]
    public async Task DeleteAsync_Inactive_Deleted()
    {
        var certificate = await _s.CreateCertificateAsync(active: false);

        await Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, false, None);

        Assert.Null(await _s.StoredCertificateAsync(certificate.CertificateId));
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Certificates.DescribeAsync(certificate.CertificateId, None));
    }

    [Fact]
    public async Task DeleteAsync_Revoked_Deleted()
    {
        var certificate = await _s.CreateCertificateAsync(active: true);
        await Certificates.UpdateStatusAsync(certificate.CertificateId, CertificateStatus.Revoked, None);

        await Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, false, None);

        Assert.Null(await _s.StoredCertificateAsync(certificate.CertificateId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleteAsync_Active_CertificateStateAndKept(bool force)
    {
        var certificate = await _s.CreateCertificateAsync(active: true);

        await ServiceAssert.ThrowsAsync(ErrorCode.CertificateState, () => Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, force, None));

        Assert.NotNull(await _s.StoredCertificateAsync(certificate.CertificateId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeleteAsync_AttachedToThing_DeleteConflictAndKept(bool force)
    {
        var certificate = await _s.CreateCertificateAsync(active: false);
        await _s.CreateThingAsync("sensor-1");
        await _s.Principals.AttachAsync(_s.Scope, "sensor-1", _s.CertificateArn(certificate.CertificateId), null, None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, force, None));

        Assert.NotNull(await _s.StoredCertificateAsync(certificate.CertificateId));
        Assert.Equal(["sensor-1"], await _s.ThingsOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task DeleteAsync_PolicyAttachedWithoutForce_DeleteConflictAndKept()
    {
        var certificate = await _s.CreateCertificateAsync(active: false);
        await _s.CreatePolicyAsync("p1");
        await _s.Policies.AttachAsync(_s.Scope, "p1", _s.CertificateArn(certificate.CertificateId), None);

        await ServiceAssert.ThrowsAsync(ErrorCode.DeleteConflict, () => Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, false, None));

        Assert.NotNull(await _s.StoredCertificateAsync(certificate.CertificateId));
        Assert.Equal(["p1"], await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
    }

    [Fact]
    public async Task DeleteAsync_PolicyAttachedWithForce_DetachesAndDeletes()
    {
        var certificate = await _s.CreateCertificateAsync(active: false);
        var other = await _s.CreateCertificateAsync(active: false);
        await _s.CreatePolicyAsync("p1");
        await _s.CreatePolicyAsync("p2");
        await _s.Policies.AttachAsync(_s.Scope, "p1", _s.CertificateArn(certificate.CertificateId), None);
        await _s.Policies.AttachAsync(_s.Scope, "p2", _s.CertificateArn(certificate.CertificateId), None);
        await _s.Policies.AttachAsync(_s.Scope, "p2", _s.CertificateArn(other.CertificateId), None);

        await Certificates.DeleteAsync(_s.Scope, certificate.CertificateId, true, None);

        Assert.Null(await _s.StoredCertificateAsync(certificate.CertificateId));
        Assert.Empty(await _s.PoliciesOfCertificateAsync(certificate.CertificateId));
        Assert.Empty(await _s.TargetsOfPolicyAsync("p1"));
        Assert.Equal([new PolicyTarget(PolicyTarget.CertificateKind, other.CertificateId)], await _s.TargetsOfPolicyAsync("p2"));

        // Nothing holds p1 any more, so it can be deleted.
        await _s.Policies.DeleteAsync("p1", None);
    }

    [Fact]
    public async Task DeleteAsync_Missing_ResourceNotFound()
    {
        await ServiceAssert.ThrowsAsync(ErrorCode.ResourceNotFound, () => Certificates.DeleteAsync(_s.Scope, new string('b', 64), false, None));
    }

    // ---- ListAsync ----

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    public async Task ListAsync_PagesAcrossEqualTimestamps_EveryCertificateOnceInOrder(bool ascending, int pageSize)
    {
        // Three at Start, two at +2 min, three at +5 min: ties fall within pages and across page boundaries.
        var created = new List<Certificate>();
        foreach (var (advance, count) in new[] { (0, 3), (2, 2), (3, 3) })
        {
            _s.Db.Time.Advance(TimeSpan.FromMinutes(advance));
            for (var i = 0; i < count; i++)
            {
                created.Add(await _s.CreateCertificateAsync(active: i % 2 == 0));
            }
        }

        var expected = created
            .OrderBy(c => c.CreatedAt)
            .ThenBy(c => c.CertificateId, StringComparer.Ordinal)
            .Select(c => c.CertificateId)
            .ToList();
        if (!ascending)
        {
            expected.Reverse();
        }

        var listed = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await Certificates.ListAsync(null, ascending, PageRequest.From(token, pageSize, "pageSize"), None);
            Assert.True(page.Items.Count <= pageSize);
            listed.AddRange(page.Items.Select(c => c.CertificateId));
            token = page.NextKey;
            pages++;
            Assert.True(pages <= created.Count + 1, "paging does not end");
        }
        while (token is not null);

        Assert.Equal(expected, listed);
        Assert.Equal((created.Count + pageSize - 1) / pageSize, pages);
    }

    [Fact]
    public async Task ListAsync_ByCa_OnlyThatCasCertificates()
    {
        var issued = await _s.CreateCertificateAsync();
        var (_, leafPem) = SecurityServices.OutsideCaAndLeaf();
        var outside = await Certificates.RegisterWithoutCaAsync(leafPem, null, None);

        var byCa = await Certificates.ListAsync(_s.Authority.IssuingCertificateId, true, new PageRequest(null, 10), None);
        var all = await Certificates.ListAsync(null, true, new PageRequest(null, 10), None);

        Assert.Equal([issued.CertificateId], byCa.Items.Select(c => c.CertificateId));
        Assert.Equal(
            new[] { issued.CertificateId, outside.CertificateId }.Order(StringComparer.Ordinal),
            all.Items.Select(c => c.CertificateId).Order(StringComparer.Ordinal));
    }
}

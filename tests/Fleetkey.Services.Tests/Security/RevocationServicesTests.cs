using System.Diagnostics;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Changes;
using Fleetkey.Services.Security;
using Fleetkey.Storage.Sql;
using Fleetkey.Storage;
using Fleetkey.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.X509;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

/// <summary>
/// The CRL and the OCSP answers follow certificate statuses, deletions included, on this node and on
/// another sharing the database. CRLs are read with BouncyCastle, OCSP answers with <see cref="OcspTestClient"/>.
/// </summary>
public sealed class RevocationServicesTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SecurityServices _s = new();
    private readonly List<IDisposable> _disposables = [];

    public Task InitializeAsync() => _s.InitializeAsync();

    public async Task DisposeAsync()
    {
        _disposables.ForEach(d => d.Dispose());
        await _s.DisposeAsync();
    }

    private IotScope Scope => _s.Scope;

    private CrlService Crl(IFleetStore? store = null)
    {
        store ??= _s.Db.Store;
        var crl = new CrlService(store, _s.Authority, new FleetChanges(store), _s.Db.Time, NullLogger<CrlService>.Instance);
        _disposables.Add(crl);
        return crl;
    }

    private OcspService Ocsp(IFleetStore? store = null)
    {
        var signer = new OcspSigner(_s.Authority, _s.Db.Time);
        _disposables.Add(signer);
        return new OcspService(store ?? _s.Db.Store, new OcspResponder(_s.Authority, signer, _s.Db.Time));
    }

    private async Task<X509Crl> ReadCrlAsync(CrlService service)
    {
        var der = await service.GetAsync(_s.Authority.IssuingCertificateId, None) ?? throw new InvalidOperationException("No CRL.");
        var crl = new X509CrlParser().ReadCrl(der);
        crl.Verify(new X509CertificateParser().ReadCertificate(_s.Authority.Issuing.RawData).GetPublicKey());
        return crl;
    }

    /// <summary>Serial number (hex) → reason code (null: none) of every entry.</summary>
    private static Dictionary<string, int?> Entries(X509Crl crl) =>
        (crl.GetRevokedCertificates() ?? new HashSet<X509CrlEntry>()).ToDictionary(
            e => EvenHex(e.SerialNumber.ToString(16)),
            e => e.GetExtensionValue(X509Extensions.ReasonCode) is { } value
                ? DerEnumerated.GetInstance(Asn1Object.FromByteArray(value.GetOctets())).IntValueExact
                : (int?)null);

    // The serial as the store keeps it: the DER INTEGER's content octets in hex, so an even number of digits
    // (BigInteger drops a leading zero digit: 0x03 0x09 … prints as 309…).
    private static string EvenHex(string hex) => hex.Length % 2 == 0 ? hex : "0" + hex;

    private static long CrlNumber(X509Crl crl) =>
        DerInteger.GetInstance(Asn1Object.FromByteArray(crl.GetExtensionValue(X509Extensions.CrlNumber)!.GetOctets())).LongValueExact;

    private async Task<(string Id, string Serial)> CertificateAsync(bool active = true)
    {
        var certificate = await _s.CreateCertificateAsync(active);
        return (certificate.CertificateId, certificate.SerialNumber!);
    }

    private async Task<OcspReply> AskAsync(OcspService ocsp, string serial) =>
        OcspTestClient.Read((await ocsp.RespondAsync(OcspTestClient.Request(_s.Authority.Issuing, serial), None)).Response);

    [Fact]
    public async Task CrlGetAsync_StatusChanges_ListedWithTheirReasons()
    {
        var crl = Crl();
        var active = await CertificateAsync();
        var held = await CertificateAsync();
        var revoked = await CertificateAsync();
        var deleted = await CertificateAsync();

        var empty = await ReadCrlAsync(crl);
        Assert.Empty(Entries(empty));

        await _s.Certificates.UpdateStatusAsync(held.Id, CertificateStatus.Inactive, None);
        await _s.Certificates.UpdateStatusAsync(revoked.Id, CertificateStatus.Revoked, None);
        await _s.Certificates.UpdateStatusAsync(deleted.Id, CertificateStatus.Inactive, None);
        await _s.Certificates.DeleteAsync(Scope, deleted.Id, forceDelete: false, None);
        var listed = await ReadCrlAsync(crl);

        Assert.Equal(
            new Dictionary<string, int?> { [held.Serial] = 6, [revoked.Serial] = null, [deleted.Serial] = 6 }.OrderBy(p => p.Key),
            Entries(listed).OrderBy(p => p.Key));
        Assert.DoesNotContain(active.Serial, Entries(listed).Keys);
        Assert.True(CrlNumber(listed) > CrlNumber(empty));
        Assert.Equal(ServiceDatabase.Start.UtcDateTime, listed.ThisUpdate);
        Assert.Equal(ServiceDatabase.Start.Add(CrlService.Validity).UtcDateTime, listed.NextUpdate!.Value);

        // A hold is lifted by reactivating: the certificate leaves the list.
        await _s.Certificates.UpdateStatusAsync(held.Id, CertificateStatus.Active, None);
        var lifted = await ReadCrlAsync(crl);
        Assert.Equal(new[] { deleted.Serial, revoked.Serial }.Order(), Entries(lifted).Keys.Order());
        Assert.True(CrlNumber(lifted) > CrlNumber(listed));
    }

    [Fact]
    public async Task CrlGetAsync_NothingListedChanged_TheSameCrlUntilHalfItsValidity()
    {
        var crl = Crl();
        var revoked = await CertificateAsync();
        await _s.Certificates.UpdateStatusAsync(revoked.Id, CertificateStatus.Revoked, None);
        var first = await crl.GetAsync(_s.Authority.IssuingCertificateId, None);

        // A commit that lists nothing new (another certificate, a thing) does not sign again.
        await CertificateAsync();
        await _s.CreateThingAsync("unrelated");
        _s.Db.Time.Advance(CrlService.RefreshAfter - TimeSpan.FromMinutes(1));
        var second = await crl.GetAsync(_s.Authority.IssuingCertificateId, None);
        _s.Db.Time.Advance(TimeSpan.FromMinutes(1));
        var third = await ReadCrlAsync(crl);

        Assert.Same(first, second);
        Assert.Equal(ServiceDatabase.Start.Add(CrlService.RefreshAfter).UtcDateTime, third.ThisUpdate);
        Assert.True(CrlNumber(third) > CrlNumber(new X509CrlParser().ReadCrl(first)));
        Assert.Equal([revoked.Serial], Entries(third).Keys);
    }

    [Fact]
    public async Task CrlGetAsync_NotTheIssuingCa_Null()
    {
        var crl = Crl();

        Assert.Null(await crl.GetAsync(_s.Authority.RootCertificateId, None));
        Assert.Null(await crl.GetAsync(new string('0', 64), None));
    }

    [Fact]
    public async Task OcspRespondAsync_EachStatus_Answered()
    {
        var ocsp = Ocsp();
        var active = await CertificateAsync();
        var inactive = await CertificateAsync(active: false);
        var revoked = await CertificateAsync();
        var deleted = await CertificateAsync();
        _s.Db.Time.Advance(TimeSpan.FromMinutes(10));
        await _s.Certificates.UpdateStatusAsync(revoked.Id, CertificateStatus.Revoked, None);
        await _s.Certificates.UpdateStatusAsync(deleted.Id, CertificateStatus.Revoked, None);
        await _s.Certificates.DeleteAsync(Scope, deleted.Id, forceDelete: false, None);

        var good = await AskAsync(ocsp, active.Serial);
        var held = await AskAsync(ocsp, inactive.Serial);
        var gone = await AskAsync(ocsp, revoked.Serial);
        var tombstone = await AskAsync(ocsp, deleted.Serial);
        var unknown = await AskAsync(ocsp, "7f00ff");

        Assert.Equal("good", good.State);
        Assert.Equal(("revoked", (int?)6, ServiceDatabase.Start.UtcDateTime), (held.State, held.Reason, held.RevokedAt!.Value));
        Assert.Equal(("revoked", (int?)null, ServiceDatabase.Start.AddMinutes(10).UtcDateTime), (gone.State, gone.Reason, gone.RevokedAt!.Value));
        Assert.Equal(("revoked", (int?)null), (tombstone.State, tombstone.Reason));
        Assert.Equal("unknown", unknown.State);
    }

    [Fact]
    public async Task StatusChange_OnAnotherNode_ListedAtTheNextRequests()
    {
        var crl = Crl();
        var ocsp = Ocsp();
        var certificate = await CertificateAsync();
        Assert.Empty(Entries(await ReadCrlAsync(crl)));
        Assert.Equal("good", (await AskAsync(ocsp, certificate.Serial)).State);

        var nodeB = await _s.Db.OpenAnotherStoreAsync();
        try
        {
            var certificatesOnB = new CertificateService(nodeB, _s.Authority, _s.Db.Time);
            await certificatesOnB.UpdateStatusAsync(certificate.Id, CertificateStatus.Inactive, None);
            var changed = Stopwatch.StartNew();

            // The stamp moves at once on SQLite and within 100 ms on PostgreSQL, so the CRL is rebuilt at the
            // next request; the bound is wide for a loaded CI machine, and a CRL kept until its 12-hour refresh
            // (the stamp check gone) still fails it.
            while (!Entries(await ReadCrlAsync(crl)).ContainsKey(certificate.Serial))
            {
                Assert.True(changed.Elapsed < TimeSpan.FromSeconds(15), "The CRL did not list the certificate another node made INACTIVE.");
                await Task.Delay(20);
            }

            Assert.Equal("revoked", (await AskAsync(ocsp, certificate.Serial)).State);
        }
        finally
        {
            await nodeB.CloseAsync();
        }
    }

    [Fact]
    public async Task FillSerialNumbersAsync_RowsFromBeforeSchema13_FoundByOcspAgain()
    {
        var ocsp = Ocsp();
        var certificate = await CertificateAsync(active: false);
        await _s.Db.Store.WriteAsync((s, ct) => ((SqlSession)s).ExecuteAsync("UPDATE certificates SET serial_number = NULL", ct), None);
        Assert.Equal("unknown", (await AskAsync(ocsp, certificate.Serial)).State);

        var filled = await new RevocationMaintenance(_s.Db.Store, _s.Db.Time, NullLogger<RevocationMaintenance>.Instance).FillSerialNumbersAsync(None);

        Assert.Equal(1, filled);
        Assert.Equal("revoked", (await AskAsync(ocsp, certificate.Serial)).State);
    }
}

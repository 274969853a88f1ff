using Fleetkey.Core.Registry;
using Fleetkey.Storage.Sql;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>What CRLs and OCSP read (serial numbers, tombstones of deleted certificates, CRL numbers) behaves the same on SQLite and PostgreSQL.</summary>
public sealed class RevocationStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(Start);

    private static Certificate Device(string id, string serial, string status, string? ca = "ca", int minute = 0, int days = 365) =>
        new(id, ca, status, "pem-" + id, "DEFAULT", Start, Start.AddDays(days), Start, Start.AddMinutes(minute), 1, "g", serial);

    private static Task<bool> InsertAsync(TestStore test, params Certificate[] certificates) =>
        test.Store.WriteAsync(async (s, ct) =>
        {
            foreach (var certificate in certificates)
            {
                await s.Certificates.InsertAsync(certificate, ct);
            }

            return true;
        }, None);

    private static Task<RevocationRecord?> FindAsync(TestStore test, string serial, string ca = "ca") =>
        test.Store.ReadAsync((s, ct) => s.Revocation.FindAsync(ca, serial, ct), None);

    private static Task<IReadOnlyList<RevocationRecord>> ListAsync(TestStore test, DateTimeOffset at) =>
        test.Store.ReadAsync((s, ct) => s.Revocation.ListNotActiveAsync("ca", at, ct), None);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task FindAsync_BySerialAndCa_StoredCertificate(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await InsertAsync(test, Device("a", "0a", CertificateStatus.Active), Device("b", "0b", CertificateStatus.Revoked, minute: 7), Device("c", "0a", CertificateStatus.Active, ca: "other"));

        Assert.Equal(new RevocationRecord("a", "0a", CertificateStatus.Active, Start, Start.AddDays(365), Deleted: false), await FindAsync(test, "0a"));
        Assert.Equal(new RevocationRecord("b", "0b", CertificateStatus.Revoked, Start.AddMinutes(7), Start.AddDays(365), Deleted: false), await FindAsync(test, "0b"));
        Assert.Equal("c", (await FindAsync(test, "0a", "other"))!.CertificateId);
        Assert.Null(await FindAsync(test, "0c"));
        Assert.Null(await FindAsync(test, "0b", "other"));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task DeleteAsync_CertificateOfACa_LeavesTombstoneUntilRegisteredAgain(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await InsertAsync(test, Device("held", "01", CertificateStatus.Inactive, minute: 3), Device("free", "02", CertificateStatus.Inactive, ca: null));

        Assert.True(await test.Store.WriteAsync((s, ct) => s.Certificates.DeleteAsync("held", ct), None));
        await test.Store.WriteAsync((s, ct) => s.Certificates.DeleteAsync("free", ct), None);

        Assert.Equal(new RevocationRecord("held", "01", CertificateStatus.Inactive, Start.AddMinutes(3), Start.AddDays(365), Deleted: true), await FindAsync(test, "01"));
        Assert.Equal(["01"], (await ListAsync(test, Start)).Select(r => r.SerialNumber));

        // Registered again (ACTIVE): the stored certificate speaks, its tombstone is left out of the CRL.
        await InsertAsync(test, Device("held", "01", CertificateStatus.Active));
        Assert.False((await FindAsync(test, "01"))!.Deleted);
        Assert.Empty(await ListAsync(test, Start));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListNotActiveAsync_NotActiveNotExpired_InSerialOrder(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await InsertAsync(
            test,
            Device("active", "01", CertificateStatus.Active),
            Device("inactive", "05", CertificateStatus.Inactive),
            Device("revoked", "03", CertificateStatus.Revoked),
            Device("pending", "04", CertificateStatus.PendingActivation),
            Device("expired", "02", CertificateStatus.Revoked, days: 1),
            Device("deleted", "06", CertificateStatus.Revoked),
            Device("elsewhere", "07", CertificateStatus.Revoked, ca: "other"));
        await test.Store.WriteAsync((s, ct) => s.Certificates.DeleteAsync("deleted", ct), None);

        var listed = await ListAsync(test, Start.AddDays(2));

        Assert.Equal(["03", "04", "05", "06"], listed.Select(r => r.SerialNumber));
        Assert.Equal([false, false, false, true], listed.Select(r => r.Deleted));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task NextCrlNumberAsync_TwoNodes_AlwaysGrows(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var other = test.OpenAnother();
        try
        {
            Task<long> Next(Fleetkey.Storage.Sql.SqlFleetStore store, long atLeast) => store.WriteAsync((s, ct) => s.Revocation.NextCrlNumberAsync("ca", atLeast, ct), None);

            var first = await Next(test.Store, 1000);
            var second = await Next(other, 1000);
            var third = await Next(test.Store, 5);
            var jump = await Next(other, 90_000);
            var otherCa = await other.WriteAsync((s, ct) => s.Revocation.NextCrlNumberAsync("ca-2", 7, ct), None);

            Assert.Equal([1000L, 1001L, 1002L, 90_000L], [first, second, third, jump]);
            Assert.Equal(7, otherCa);
        }
        finally
        {
            await other.CloseAsync();
        }
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task PruneTombstonesAsync_Expired_Dropped(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await InsertAsync(test, Device("short", "01", CertificateStatus.Revoked, days: 1), Device("long", "02", CertificateStatus.Revoked));
        await test.Store.WriteAsync(async (s, ct) => await s.Certificates.DeleteAsync("short", ct) && await s.Certificates.DeleteAsync("long", ct), None);

        var pruned = await test.Store.WriteAsync((s, ct) => s.Revocation.PruneTombstonesAsync(Start.AddDays(2), ct), None);

        Assert.Equal(1, pruned);
        Assert.Null(await FindAsync(test, "01"));
        Assert.NotNull(await FindAsync(test, "02"));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListWithoutSerialNumberAsync_OlderRows_FilledOnce(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await InsertAsync(test, Device("old", "01", CertificateStatus.Active) with { SerialNumber = null }, Device("new", "02", CertificateStatus.Active));

        var missing = await test.Store.ReadAsync((s, ct) => s.Revocation.ListWithoutSerialNumberAsync(10, ct), None);
        Assert.Equal([("old", "pem-old")], missing);
        await test.Store.WriteAsync(async (s, ct) => { await s.Revocation.SetSerialNumberAsync("old", "0abc", ct); return true; }, None);

        Assert.Empty(await test.Store.ReadAsync((s, ct) => s.Revocation.ListWithoutSerialNumberAsync(10, ct), None));
        Assert.Equal("old", (await FindAsync(test, "0abc"))!.CertificateId);
    }
}

using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>CA certificates and registration codes behave the same on SQLite and PostgreSQL.</summary>
public sealed class CaCertificateStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Start);

    private static CaCertificate Ca(string id, int minute, bool managed = false, CaRegistrationConfig? registration = null) =>
        new(id, "pem-" + id, "CN=" + id, CertificateStatus.Active, AutoRegistrationStatus.Disable, managed,
            Start, Start.AddYears(5), Start.AddMinutes(minute), Start.AddMinutes(minute), 1, "gen-" + id, CaCertificateMode.Default, registration);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task InsertUpdateGet_RoundTripsModeAndRegistrationConfig(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var config = new CaRegistrationConfig("{\"Resources\":{}}", null, "arn:aws:iam::000000000000:role/JITP");
        var ca = Ca("ca-1", 0, registration: config) with { Mode = CaCertificateMode.SniOnly };
        await test.Store.WriteAsync(async (s, ct) => { await s.CaCertificates.InsertAsync(ca, ct); return true; }, CancellationToken.None);

        Assert.Equal(ca, await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetAsync("ca-1", ct), CancellationToken.None));

        var updated = ca with
        {
            Status = CertificateStatus.Inactive,
            AutoRegistrationStatus = AutoRegistrationStatus.Enable,
            Registration = new CaRegistrationConfig(null, "jitp-template", null),
            LastModifiedAt = Start.AddHours(1),
            CustomerVersion = 2,
            GenerationId = "gen-2",
        };
        await test.Store.WriteAsync(async (s, ct) => { await s.CaCertificates.UpdateAsync(updated, ct); return true; }, CancellationToken.None);
        Assert.Equal(updated, await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetAsync("ca-1", ct), CancellationToken.None));

        await test.Store.WriteAsync(async (s, ct) => { await s.CaCertificates.UpdateAsync(updated with { Registration = null }, ct); return true; }, CancellationToken.None);
        Assert.Null((await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetAsync("ca-1", ct), CancellationToken.None))!.Registration);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Insert_SameId_IsResourceAlreadyExists(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) => { await s.CaCertificates.InsertAsync(Ca("dup", 0), ct); return true; }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<ServiceException>(() =>
            test.Store.WriteAsync(async (s, ct) => { await s.CaCertificates.InsertAsync(Ca("dup", 1), ct); return true; }, CancellationToken.None));
        Assert.Equal(ErrorCode.ResourceAlreadyExists, error.Code);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListRegistered_SkipsManaged_PagesByCreationInBothOrders_FiltersByTemplate(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.CaCertificates.InsertAsync(Ca("managed", 0, managed: true), ct);
            await s.CaCertificates.InsertAsync(Ca("c", 1, registration: new CaRegistrationConfig(null, "t1", null)), ct);
            await s.CaCertificates.InsertAsync(Ca("a", 2), ct);
            await s.CaCertificates.InsertAsync(Ca("b", 2, registration: new CaRegistrationConfig(null, "t1", null)), ct);
            return true;
        }, CancellationToken.None);

        var ascending = await test.Store.ReadAsync((s, ct) => s.CaCertificates.ListRegisteredAsync(null, true, null, 10, ct), CancellationToken.None);
        Assert.Equal(["c", "a", "b"], ascending.Select(c => c.CertificateId));
        var afterFirst = await test.Store.ReadAsync((s, ct) => s.CaCertificates.ListRegisteredAsync(null, true, Paging.CreationKey(ascending[0].CreatedAt, "c"), 1, ct), CancellationToken.None);
        Assert.Equal(["a"], afterFirst.Select(c => c.CertificateId));
        var descending = await test.Store.ReadAsync((s, ct) => s.CaCertificates.ListRegisteredAsync(null, false, null, 10, ct), CancellationToken.None);
        Assert.Equal(["b", "a", "c"], descending.Select(c => c.CertificateId));
        var byTemplate = await test.Store.ReadAsync((s, ct) => s.CaCertificates.ListRegisteredAsync("t1", true, null, 10, ct), CancellationToken.None);
        Assert.Equal(["c", "b"], byTemplate.Select(c => c.CertificateId));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task HasDeviceCertificates_AndDelete(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.CaCertificates.InsertAsync(Ca("ca", 0), ct);
            await s.Certificates.InsertAsync(new Certificate("dev", "ca", CertificateStatus.PendingActivation, "pem", "DEFAULT", Start, Start.AddYears(1), Start, Start, 1, "g"), ct);
            return true;
        }, CancellationToken.None);
        Assert.True(await test.Store.ReadAsync((s, ct) => s.CaCertificates.HasDeviceCertificatesAsync("ca", ct), CancellationToken.None));

        await test.Store.WriteAsync((s, ct) => s.Certificates.DeleteAsync("dev", ct), CancellationToken.None);
        Assert.False(await test.Store.ReadAsync((s, ct) => s.CaCertificates.HasDeviceCertificatesAsync("ca", ct), CancellationToken.None));
        Assert.True(await test.Store.WriteAsync((s, ct) => s.CaCertificates.DeleteAsync("ca", ct), CancellationToken.None));
        Assert.False(await test.Store.WriteAsync((s, ct) => s.CaCertificates.DeleteAsync("ca", ct), CancellationToken.None));
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetAsync("ca", ct), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task RegistrationCode_FirstWriterWins_UntilDeleted(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetRegistrationCodeAsync("111111111111", ct), CancellationToken.None));

        var first = await test.Store.WriteAsync((s, ct) => s.CaCertificates.EnsureRegistrationCodeAsync("111111111111", "code-1", Start, ct), CancellationToken.None);
        var second = await test.Store.WriteAsync((s, ct) => s.CaCertificates.EnsureRegistrationCodeAsync("111111111111", "code-2", Start, ct), CancellationToken.None);
        var otherAccount = await test.Store.WriteAsync((s, ct) => s.CaCertificates.EnsureRegistrationCodeAsync("222222222222", "code-3", Start, ct), CancellationToken.None);
        Assert.Equal(("code-1", "code-1", "code-3"), (first, second, otherAccount));

        Assert.True(await test.Store.WriteAsync((s, ct) => s.CaCertificates.DeleteRegistrationCodeAsync("111111111111", ct), CancellationToken.None));
        Assert.False(await test.Store.WriteAsync((s, ct) => s.CaCertificates.DeleteRegistrationCodeAsync("111111111111", ct), CancellationToken.None));
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetRegistrationCodeAsync("111111111111", ct), CancellationToken.None));
        Assert.Equal("code-3", await test.Store.ReadAsync((s, ct) => s.CaCertificates.GetRegistrationCodeAsync("222222222222", ct), CancellationToken.None));
    }
}

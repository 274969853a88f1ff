using System.Globalization;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The expiry query of <see cref="ICertificateRepository"/> on both stores: the range and statuses it selects,
/// its order (not-after, then id in byte order), its pages, the things it joins, and its count.
/// </summary>
public sealed class CertificateExpiryStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => _time.GetUtcNow();

    private static string Id(int i) => i.ToString("x64", CultureInfo.InvariantCulture);

    private Certificate NewCertificate(string id, string status, DateTimeOffset notAfter, string? ca = "ca-1") =>
        new(id, ca, status, "pem", "DEFAULT", Now.AddYears(-1), notAfter, Now, Now, 1, "g");

    /// <summary>
    /// A fleet with one of each case: expired, ending in 1 h, two ending at the same instant in 5 days (ids
    /// in reverse insertion order), ending in 40 days; an INACTIVE one in 2 days; a claim certificate in 1 h.
    /// </summary>
    private async Task SeedAsync(TestStore test)
    {
        await test.Store.WriteAsync(async (s, ct) =>
        {
            await s.Certificates.InsertAsync(NewCertificate(Id(1), CertificateStatus.Active, Now.AddDays(-3)), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(2), CertificateStatus.Active, Now.AddHours(1), ca: null), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(4), CertificateStatus.Active, Now.AddDays(5)), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(3), CertificateStatus.Active, Now.AddDays(5)), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(5), CertificateStatus.Active, Now.AddDays(40)), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(6), CertificateStatus.Inactive, Now.AddDays(2)), ct);
            await s.Certificates.InsertAsync(NewCertificate(Id(7), CertificateStatus.Active, Now.AddHours(1)), ct);
            await s.FleetProvisioning.InsertClaimAsync(new ProvisioningClaim(Id(7), "claim-template", Now, Now.AddHours(1)), ct);

            foreach (var name in new[] { "b-thing", "B-thing", "a-thing" })
            {
                await s.Things.InsertAsync(new Thing(name, Guid.NewGuid().ToString(), null, new Dictionary<string, string>(), 1, Now), ct);
                await s.ThingPrincipals.AttachAsync(new ThingPrincipal(name, PolicyTarget.CertificateKind, Id(3), ThingPrincipalType.NonExclusive), Now, ct);
            }

            await s.ThingPrincipals.AttachAsync(new ThingPrincipal("a-thing", PolicyTarget.CertificateKind, Id(2), ThingPrincipalType.NonExclusive), Now, ct);
            return true;
        }, None);
    }

    private static Task<IReadOnlyList<ExpiringCertificate>> ListAsync(TestStore test, ExpiryRange range, string? after = null, int limit = 100) =>
        test.Store.ReadAsync((s, ct) => s.Certificates.ListExpiringAsync(range, after, limit, ct), None);

    private static Task<long> CountAsync(TestStore test, ExpiryRange range) =>
        test.Store.ReadAsync((s, ct) => s.Certificates.CountExpiringAsync(range, ct), None);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListExpiring_ActiveWithinThirtyDays_SoonestFirstWithThingsInByteOrder(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await SeedAsync(test);
        var range = new ExpiryRange([CertificateStatus.Active], Now, Now.AddDays(30));

        var listed = await ListAsync(test, range);

        // Not the expired one, the INACTIVE one, the claim certificate or the one beyond the window; the tie by id.
        Assert.Equal([Id(2), Id(3), Id(4)], listed.Select(c => c.CertificateId));
        Assert.Equal((CertificateStatus.Active, Now.AddHours(1), (string?)null), (listed[0].Status, listed[0].NotAfter, listed[0].CaCertificateId));
        Assert.Equal(["a-thing"], listed[0].ThingNames);
        Assert.Equal(["B-thing", "a-thing", "b-thing"], listed[1].ThingNames);
        Assert.Equal("ca-1", listed[1].CaCertificateId);
        Assert.Equal(Now.AddDays(5), listed[1].NotAfter);
        Assert.Empty(listed[2].ThingNames);
        Assert.Equal(3, await CountAsync(test, range));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListExpiring_NoLowerBoundAndMoreStatuses_IncludesExpiredAndInactive(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await SeedAsync(test);
        var range = new ExpiryRange([CertificateStatus.Active, CertificateStatus.Inactive], null, Now.AddDays(30));

        var listed = await ListAsync(test, range);

        Assert.Equal([Id(1), Id(2), Id(6), Id(3), Id(4)], listed.Select(c => c.CertificateId));
        Assert.Equal(5, await CountAsync(test, range));

        // The end of the range is exclusive, its start inclusive.
        Assert.Equal([Id(2)], (await ListAsync(test, new ExpiryRange([CertificateStatus.Active], Now.AddHours(1), Now.AddDays(5)))).Select(c => c.CertificateId));
        Assert.Equal(1, await CountAsync(test, new ExpiryRange([CertificateStatus.Active], null, Now)));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListExpiring_PagesOfOne_WalkEveryCertificateOnceAcrossTheTie(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await SeedAsync(test);
        var range = new ExpiryRange([CertificateStatus.Active, CertificateStatus.Inactive], null, Now.AddDays(365));

        var walked = new List<string>();
        string? after = null;
        while (true)
        {
            var page = await ListAsync(test, range, after, limit: 1);
            if (page.Count == 0)
            {
                break;
            }

            walked.Add(page[0].CertificateId);
            after = Paging.ExpiryKey(page[0].NotAfter, page[0].CertificateId);
        }

        Assert.Equal([Id(1), Id(2), Id(6), Id(3), Id(4), Id(5)], walked);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListExpiring_KeyThatIsNotOne_IsInvalidRequest(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);

        var error = await Assert.ThrowsAsync<ServiceException>(() => ListAsync(test, new ExpiryRange([CertificateStatus.Active], null, Now), after: "not-a-key"));

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Xunit;

namespace Fleetkey.Services.Tests.Security;

/// <summary>
/// Which certificates end when, at the service's clock: the window, the default and asked statuses, expired
/// ones, pages, and the counts behind the gauges. SQLite, or PostgreSQL with FLEETKEY_TEST_STORE=postgres.
/// </summary>
public sealed class CertificateExpiryServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly ExpiryWindow Thirty = ExpiryWindow.ThirtyDays;
    private readonly SecurityServices _s = new();
    private CertificateExpiryService _expiry = null!;

    public async Task InitializeAsync()
    {
        await _s.InitializeAsync();
        _expiry = new CertificateExpiryService(_s.Db.Store, _s.Db.Time);
    }

    public Task DisposeAsync() => _s.DisposeAsync().AsTask();

    private DateTimeOffset Now => _s.Db.Time.GetUtcNow();

    /// <summary>A certificate row ending <paramref name="days"/> from now, named by its day count for readable assertions.</summary>
    private async Task<string> StoreAsync(double days, string status = CertificateStatus.Active)
    {
        var id = Id(days, status);
        var notAfter = Now.AddDays(days);
        await _s.Db.Store.WriteAsync(
            async (session, ct) =>
            {
                await session.Certificates.InsertAsync(new Certificate(id, "ca-1", status, "pem", "DEFAULT", Now.AddYears(-1), notAfter, Now, Now, 1, "g"), ct);
                return true;
            },
            None);
        return id;
    }

    private static string Id(double days, string status) =>
        $"{status}:{days.ToString(CultureInfo.InvariantCulture)}d".PadRight(64, '0');

    /// <summary>
    /// One of each: ACTIVE ending in 1, 29 and 31 days and ended a day ago; INACTIVE in 2 days, REVOKED in 3; and a
    /// real certificate (registered without a CA, its not-after read from its PEM) ACTIVE for 10 more days.
    /// </summary>
    private async Task<string> SeedAsync()
    {
        await StoreAsync(1);
        await StoreAsync(29);
        await StoreAsync(31);
        await StoreAsync(-1);
        await StoreAsync(2, CertificateStatus.Inactive);
        await StoreAsync(3, CertificateStatus.Revoked);
        var registered = await _s.Certificates.RegisterWithoutCaAsync(LeafPem(Now.AddDays(10)), CertificateStatus.Active, None);
        await _s.CreateThingAsync("pump-7");
        await _s.Principals.AttachAsync(_s.Scope, "pump-7", _s.CertificateArn(registered.CertificateId), null, None);
        return registered.CertificateId;
    }

    private static string LeafPem(DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pump-7", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(notAfter.AddYears(-1), notAfter);
        return certificate.ExportCertificatePem();
    }

    private async Task<IReadOnlyList<string>> ListIdsAsync(ExpiryQuery query) =>
        (await _expiry.ListAsync(query, PageRequest.From(null, PageRequest.MaxLimit), None)).Items.Select(c => c.CertificateId).ToList();

    [Fact]
    public async Task ListAsync_DefaultQuery_ActiveEndingWithinTheWindowSoonestFirst()
    {
        var registered = await SeedAsync();

        var page = await _expiry.ListAsync(new ExpiryQuery(Thirty), PageRequest.From(null, null), None);

        Assert.Equal([Id(1, CertificateStatus.Active), registered, Id(29, CertificateStatus.Active)], page.Items.Select(c => c.CertificateId));
        Assert.Null(page.NextKey);
        var real = page.Items[1];
        Assert.Equal(CertificateStatus.Active, real.Status);
        Assert.Equal(Now.AddDays(10), real.NotAfter);
        Assert.Null(real.CaCertificateId);
        Assert.Equal(["pump-7"], real.ThingNames);
    }

    [Fact]
    public async Task ListAsync_IncludeExpired_ListsTheExpiredFirst()
    {
        var registered = await SeedAsync();

        var listed = await ListIdsAsync(new ExpiryQuery(Thirty, IncludeExpired: true));

        Assert.Equal([Id(-1, CertificateStatus.Active), Id(1, CertificateStatus.Active), registered, Id(29, CertificateStatus.Active)], listed);
    }

    [Fact]
    public async Task ListAsync_AskedStatuses_ListsOnlyThose()
    {
        await SeedAsync();

        var listed = await ListIdsAsync(new ExpiryQuery(ExpiryWindow.SevenDays, [CertificateStatus.Revoked, CertificateStatus.Inactive, CertificateStatus.Revoked]));

        Assert.Equal([Id(2, CertificateStatus.Inactive), Id(3, CertificateStatus.Revoked)], listed);
    }

    [Fact]
    public async Task ListAsync_UnknownStatus_IsInvalidRequestNamingTheValidOnes()
    {
        var error = await Assert.ThrowsAsync<ServiceException>(() => ListIdsAsync(new ExpiryQuery(Thirty, [CertificateStatus.Active, "EXPIRED"])));

        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        Assert.Contains("'EXPIRED'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_ClockMoves_TheWindowMovesWithIt()
    {
        await SeedAsync();

        _s.Db.Time.Advance(TimeSpan.FromDays(2));
        var listed = await ListIdsAsync(new ExpiryQuery(Thirty));

        // The one that ended in between has left; the one 31 days out has come in.
        Assert.DoesNotContain(Id(1, CertificateStatus.Active), listed);
        Assert.Equal([Id(29, CertificateStatus.Active), Id(31, CertificateStatus.Active)], listed.Skip(1));
        Assert.Equal(Id(1, CertificateStatus.Active), (await ListIdsAsync(new ExpiryQuery(Thirty, IncludeExpired: true)))[1]);
    }

    [Fact]
    public async Task ListAsync_PagesOfTwo_ContinueFromTheKey()
    {
        var registered = await SeedAsync();
        var query = new ExpiryQuery(ExpiryWindow.TryParse("60d")!, IncludeExpired: true);

        var first = await _expiry.ListAsync(query, PageRequest.From(null, 2), None);
        var second = await _expiry.ListAsync(query, PageRequest.From(first.NextKey, 2), None);
        var third = await _expiry.ListAsync(query, PageRequest.From(second.NextKey, 2), None);

        Assert.Equal([Id(-1, CertificateStatus.Active), Id(1, CertificateStatus.Active)], first.Items.Select(c => c.CertificateId));
        Assert.Equal([registered, Id(29, CertificateStatus.Active)], second.Items.Select(c => c.CertificateId));
        Assert.Equal([Id(31, CertificateStatus.Active)], third.Items.Select(c => c.CertificateId));
        Assert.Null(third.NextKey);
    }

    [Fact]
    public async Task CountActiveAsync_EachWindowAndTheExpired()
    {
        await SeedAsync();

        var counts = await _expiry.CountActiveAsync([ExpiryWindow.SevenDays, Thirty, ExpiryWindow.TryParse("90d")!], None);

        Assert.Equal(Now, counts.At);
        Assert.Equal([("7d", 1L), ("30d", 3L), ("90d", 4L)], counts.Expiring.Select(c => (c.Window.Text, c.Count)));
        Assert.Equal(1, counts.Expired);
    }
}

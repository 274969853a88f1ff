using Fleetkey.Core.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>Fleet provisioning's tables (ownership tokens, provisioning claims) behave the same on SQLite and PostgreSQL.</summary>
public sealed class FleetProvisioningStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(Start);

    private static OwnershipToken Token(string hash, DateTimeOffset expires) => new(hash, "cert-" + hash, "claim-cert", "client-1", Start, expires);

    private static Task<T> WriteAsync<T>(TestStore test, Func<IFleetProvisioningRepository, CancellationToken, Task<T>> work) =>
        test.Store.WriteAsync((s, ct) => work(s.FleetProvisioning, ct), None);

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TakeToken_ReturnsItOnceThenNull(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) => { await r.InsertTokenAsync(Token("h1", Start.AddHours(1)), ct); return true; });

        var peeked = await test.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetTokenAsync("h1", ct), None);
        var first = await WriteAsync(test, (r, ct) => r.TakeTokenAsync("h1", ct));
        var second = await WriteAsync(test, (r, ct) => r.TakeTokenAsync("h1", ct));

        Assert.Equal(Token("h1", Start.AddHours(1)), peeked);
        Assert.Equal(peeked, first);
        Assert.Null(second);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TakeToken_ConcurrentTakers_ExactlyOneGetsIt(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) => { await r.InsertTokenAsync(Token("race", Start.AddHours(1)), ct); return true; });

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => WriteAsync(test, (r, ct) => r.TakeTokenAsync("race", ct)))));

        Assert.Single(results, r => r is not null);
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task TakeToken_RolledBack_StaysUsable(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) => { await r.InsertTokenAsync(Token("h2", Start.AddHours(1)), ct); return true; });

        await Assert.ThrowsAsync<InvalidOperationException>(() => WriteAsync<bool>(test, async (r, ct) =>
        {
            Assert.NotNull(await r.TakeTokenAsync("h2", ct));
            throw new InvalidOperationException("registration failed");
        }));

        Assert.NotNull(await WriteAsync(test, (r, ct) => r.TakeTokenAsync("h2", ct)));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListExpired_OnlyThosePastTheirExpiry_OldestFirst(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await WriteAsync(test, async (r, ct) =>
        {
            await r.InsertTokenAsync(Token("late", Start.AddMinutes(30)), ct);
            await r.InsertTokenAsync(Token("early", Start.AddMinutes(10)), ct);
            await r.InsertTokenAsync(Token("live", Start.AddHours(2)), ct);
            await r.InsertClaimAsync(new ProvisioningClaim("claim-old", "tpl", Start, Start.AddMinutes(5)), ct);
            await r.InsertClaimAsync(new ProvisioningClaim("claim-new", "tpl", Start, Start.AddHours(5)), ct);
            return true;
        });

        var tokens = await WriteAsync(test, (r, ct) => r.ListExpiredTokensAsync(Start.AddHours(1), 10, ct));
        var claims = await WriteAsync(test, (r, ct) => r.ListExpiredClaimsAsync(Start.AddHours(1), 10, ct));

        Assert.Equal(["early", "late"], tokens.Select(t => t.TokenHash));
        Assert.Equal(["claim-old"], claims.Select(c => c.CertificateId));
        Assert.True(await WriteAsync(test, (r, ct) => r.DeleteTokenAsync("early", ct)));
        Assert.False(await WriteAsync(test, (r, ct) => r.DeleteTokenAsync("early", ct)));
        Assert.True(await WriteAsync(test, (r, ct) => r.DeleteClaimAsync("claim-old", ct)));
        Assert.Null(await test.Store.ReadAsync((s, ct) => s.FleetProvisioning.GetClaimAsync("claim-old", ct), None));
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task ListCertificates_LeavesOutProvisioningClaims(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        await test.Store.WriteAsync(
            async (s, ct) =>
            {
                foreach (var id in new[] { "aaaa", "bbbb" })
                {
                    await s.Certificates.InsertAsync(new Certificate(id, null, CertificateStatus.Active, "pem", "DEFAULT", Start, Start.AddDays(1), Start, Start, 1, "g"), ct);
                }

                await s.FleetProvisioning.InsertClaimAsync(new ProvisioningClaim("bbbb", "tpl", Start, Start.AddMinutes(5)), ct);
                return true;
            },
            None);

        var listed = await test.Store.ReadAsync((s, ct) => s.Certificates.ListAsync(null, true, null, 10, ct), None);

        Assert.Equal(["aaaa"], listed.Select(c => c.CertificateId));
        Assert.NotNull(await test.Store.ReadAsync((s, ct) => s.Certificates.GetAsync("bbbb", ct), None));
    }
}

using Fleetkey.Core.Registry;
using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The change stamp the broker's authorization cache and the access-key cache are kept under: it must
/// move after every commit, by this store at once and by another node's store within
/// <see cref="PostgresFleetStore.ChangeStampInterval"/> (on the test's fake clock).
/// </summary>
public sealed class ChangeStampTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Stamp_MovesAtOnce_AfterThisStoreCommits(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        for (var i = 0; i < 3; i++)
        {
            var before = await test.Store.ChangeStampAsync(CancellationToken.None);
            Assert.NotNull(before);

            await InsertThingAsync(test.Store, "local-" + i);

            Assert.NotEqual(before, await test.Store.ChangeStampAsync(CancellationToken.None));
        }
    }

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Stamp_Moves_AfterAnotherNodeCommits(string kind)
    {
        await using var test = await TestStores.CreateAsync(kind, _time);
        var other = test.OpenAnother();
        try
        {
            var before = await test.Store.ChangeStampAsync(CancellationToken.None);
            Assert.NotNull(before);

            await InsertThingAsync(other, "remote");

            // SQLite shows it at once; PostgreSQL reads the stamp again once its interval is over, and
            // until then answers the one it read (one round trip per interval for every caller).
            if (kind == "postgres")
            {
                Assert.Equal(before, await test.Store.ChangeStampAsync(CancellationToken.None));
                _time.Advance(PostgresFleetStore.ChangeStampInterval);
            }

            var after = await test.Store.ChangeStampAsync(CancellationToken.None);
            Assert.NotEqual(before, after);
        }
        finally
        {
            await other.CloseAsync();
        }
    }

    private Task<bool> InsertThingAsync(Sql.SqlFleetStore store, string name) =>
        store.WriteAsync(
            async (s, ct) =>
            {
                await s.Things.InsertAsync(new Thing(name, Guid.NewGuid().ToString(), null, new Dictionary<string, string>(), 1, _time.GetUtcNow()), ct);
                return true;
            },
            CancellationToken.None);
}

using Fleetkey.Core.Registry;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The change stamp the broker's authorization cache and the access-key cache are kept under: it must
/// move after every commit, by this store at once and by another node's store soon after.
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

            // SQLite shows it at once, PostgreSQL within its stamp interval (100 ms); 5 s is only a bound for a loaded machine.
            var deadline = DateTime.UtcNow.AddSeconds(5);
            var after = await test.Store.ChangeStampAsync(CancellationToken.None);
            while (after == before && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
                after = await test.Store.ChangeStampAsync(CancellationToken.None);
            }

            Assert.NotEqual(before, after);
        }
        finally
        {
            switch (other)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
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

using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Fleetkey.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// How many write transactions a store runs at once: SQLite one (its single writer), PostgreSQL at
/// most its limit, the rest waiting their turn (fewer SERIALIZABLE conflicts between them).
/// </summary>
public sealed class WriteConcurrencyTests
{
    private const int Writes = 8;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    [Theory]
    [MemberData(nameof(TestStores.Kinds), MemberType = typeof(TestStores))]
    public async Task Writes_RunNoMoreAtOnceThanTheStoreAllows(string kind)
    {
        if (kind == "sqlite")
        {
            await using var test = await TestStores.CreateAsync(kind, _time);
            await AssertAtMostAsync(test.Store, limit: 1);
            return;
        }

        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var postgres = new PostgresFleetStore(database.ConnectionString, maxConcurrentWrites: 3);
        await postgres.InitializeAsync(_time, CancellationToken.None);
        await AssertAtMostAsync(postgres, limit: 3);
    }

    [Fact]
    public void Postgres_LimitBelowOne_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PostgresFleetStore("Host=127.0.0.1;Database=unused", maxConcurrentWrites: 0));

    private static async Task AssertAtMostAsync(SqlFleetStore store, int limit)
    {
        var inside = 0;
        var most = 0;
        var entered = new ChangeSignal();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = Enumerable.Range(0, Writes).Select(_ => Task.Run(() => store.WriteAsync(async (_, _) =>
        {
            InterlockedMax(ref most, Interlocked.Increment(ref inside));
            entered.Raise();
            await release.Task;
            Interlocked.Decrement(ref inside);
            return true;
        }, CancellationToken.None))).ToList();

        // Until every write is accounted for: running, or held back by the store (WritesWaiting). The
        // store counts a write as waiting only before it runs, so reading `inside` first and the store
        // second counts none twice. Without a limit every write would be running by then.
        var running = 0;
        await Signals.WaitUntilAsync(
            () => Task.WhenAny(entered.Next, store.NextWritesWaitingChange),
            () =>
            {
                running = Volatile.Read(ref inside);
                return running + store.WritesWaiting == Writes;
            });
        Assert.Equal(limit, running);

        release.SetResult();
        Assert.All(await Task.WhenAll(writes), Assert.True);
        Assert.Equal(limit, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

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
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = Enumerable.Range(0, Writes).Select(_ => Task.Run(() => store.WriteAsync(async (_, _) =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            if (now == limit)
            {
                full.TrySetResult();
            }

            await release.Task;
            Interlocked.Decrement(ref inside);
            return true;
        }, CancellationToken.None))).ToList();

        await full.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The others have been started: with no limit they would be inside by now.
        await Task.Delay(300);
        Assert.Equal(limit, Volatile.Read(ref inside));

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

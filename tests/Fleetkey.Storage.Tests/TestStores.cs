using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The stores the contract runs on: SQLite always; PostgreSQL when FLEETKEY_TEST_POSTGRES names a
/// server (scripts/postgres.sh starts one). In CI (CI=true) PostgreSQL is required: without the
/// variable its rows are still generated and fail, rather than silently not running.
/// </summary>
public static class TestStores
{
    public const string PostgresVariable = TestPostgres.ServerVariable;

    /// <summary>PostgreSQL tests run: FLEETKEY_TEST_POSTGRES is set, or this is CI, where they fail without it.</summary>
    public static bool PostgresRequested =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static TheoryData<string> Kinds
    {
        get
        {
            var data = new TheoryData<string> { "sqlite" };
            if (PostgresRequested)
            {
                data.Add("postgres");
            }

            return data;
        }
    }

    /// <summary>
    /// A fresh, migrated, empty store of the kind; disposing it removes its database. PostgreSQL's stores
    /// (this one and <see cref="TestStore.OpenAnother"/>'s) measure their change-stamp interval on <paramref name="time"/>.
    /// </summary>
    public static async Task<TestStore> CreateAsync(string kind, TimeProvider time)
    {
        if (kind == "sqlite")
        {
            var directory = new TempDirectory();
            Directory.CreateDirectory(directory.Path);
            var path = Path.Combine(directory.Path, "fleetkey.db");
            var sqlite = new SqliteFleetStore(path);
            await sqlite.InitializeAsync(time, CancellationToken.None);
            return new TestStore(sqlite, () => new SqliteFleetStore(path), () =>
            {
                sqlite.Dispose();
                SqliteConnection.ClearAllPools();
                directory.Dispose();
                return Task.CompletedTask;
            });
        }

        var database = await TestPostgres.CreateDatabaseAsync();
        var postgres = new PostgresFleetStore(database.ConnectionString, time: time);
        await postgres.InitializeAsync(time, CancellationToken.None);
        return new TestStore(postgres, () => new PostgresFleetStore(database.ConnectionString, time: time), async () =>
        {
            await postgres.DisposeAsync();
            await database.DisposeAsync();
        });
    }
}

public sealed class TestStore(SqlFleetStore store, Func<SqlFleetStore> openAnother, Func<Task> cleanup) : IAsyncDisposable
{
    public SqlFleetStore Store { get; } = store;

    /// <summary>Another store on the same database, as another node (or the CLI) opens it; the caller disposes it.</summary>
    public SqlFleetStore OpenAnother() => openAnother();

    public async ValueTask DisposeAsync() => await cleanup();
}

using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sql;
using Fleetkey.Storage.Sqlite;
using Fleetkey.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The stores the contract runs on: SQLite always; PostgreSQL when FLEETKEY_TEST_POSTGRES names a
/// server (scripts/postgres.sh starts one). In CI (CI=true) PostgreSQL is required: without the
/// variable its rows are still generated and fail, rather than silently not running.
/// </summary>
public static class TestStores
{
    public const string PostgresVariable = "FLEETKEY_TEST_POSTGRES";

    public static TheoryData<string> Kinds
    {
        get
        {
            var data = new TheoryData<string> { "sqlite" };
            if (Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                data.Add("postgres");
            }

            return data;
        }
    }

    /// <summary>A fresh, migrated, empty store of the kind; disposing it removes its database.</summary>
    public static async Task<TestStore> CreateAsync(string kind, TimeProvider time)
    {
        if (kind == "sqlite")
        {
            var directory = new TempDirectory();
            Directory.CreateDirectory(directory.Path);
            var sqlite = new SqliteFleetStore(Path.Combine(directory.Path, "fleetkey.db"));
            await sqlite.InitializeAsync(time, CancellationToken.None);
            return new TestStore(sqlite, () =>
            {
                sqlite.Dispose();
                SqliteConnection.ClearAllPools();
                directory.Dispose();
                return Task.CompletedTask;
            });
        }

        var url = Environment.GetEnvironmentVariable(PostgresVariable)
            ?? throw new InvalidOperationException($"{PostgresVariable} is not set: CI must start PostgreSQL (scripts/postgres.sh) and export it.");
        var server = PostgresFleetStore.ToConnectionString(url);
        var database = "fk_test_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { Database = database };
        var postgres = new PostgresFleetStore(builder.ConnectionString);
        await postgres.InitializeAsync(time, CancellationToken.None);
        return new TestStore(postgres, async () =>
        {
            await postgres.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        });
    }
}

public sealed class TestStore(SqlFleetStore store, Func<Task> cleanup) : IAsyncDisposable
{
    public SqlFleetStore Store { get; } = store;

    public async ValueTask DisposeAsync() => await cleanup();
}

using System.Security.Cryptography;
using System.Text;
using Fleetkey.Storage.Postgres;
using Npgsql;

namespace Fleetkey.Testing;

/// <summary>
/// Which store the tests that go through the services or the whole app run on, and throwaway
/// PostgreSQL databases for them. FLEETKEY_TEST_STORE=postgres (test.sh's second pass) selects
/// PostgreSQL; unset or <c>sqlite</c> keeps SQLite. FLEETKEY_TEST_POSTGRES names the server
/// (scripts/postgres.sh starts one); every test gets a database of its own on it.
/// </summary>
public static class TestPostgres
{
    public const string ServerVariable = "FLEETKEY_TEST_POSTGRES";
    public const string StoreVariable = "FLEETKEY_TEST_STORE";

    /// <summary>True when FLEETKEY_TEST_STORE asks for PostgreSQL; an unknown value fails rather than quietly testing SQLite.</summary>
    public static bool Selected
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(StoreVariable);
            return value switch
            {
                null or "" or "sqlite" => false,
                "postgres" => true,
                _ => throw new InvalidOperationException($"{StoreVariable}={value}: expected sqlite or postgres."),
            };
        }
    }

    /// <summary>
    /// A new database of the current schema on the FLEETKEY_TEST_POSTGRES server; disposing it drops
    /// it. It is a copy of a migrated template: copying takes tens of milliseconds where creating an
    /// empty database and migrating it takes a few hundred, and the suites make hundreds of them.
    /// (Migrating an empty database is what every `fleetkey serve` the compat suites start does.)
    /// </summary>
    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var url = Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrEmpty(url))
        {
            throw new InvalidOperationException($"{ServerVariable} is not set: start PostgreSQL with scripts/postgres.sh and export the URL it prints.");
        }

        var server = PostgresFleetStore.ToConnectionString(url);
        var template = await TemplateAsync(server);
        // A generated name (no quoting needed) so parallel tests and earlier runs never collide.
        var name = "fk_test_" + Guid.NewGuid().ToString("N");
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            // FILE_COPY (PostgreSQL 15+) copies the template's files; the default WAL_LOG writes
            // every page through the WAL, several times slower for a small database.
            var strategy = admin.PostgreSqlVersion.Major >= 15 ? " STRATEGY FILE_COPY" : "";
            await ExecuteAsync(admin, $"CREATE DATABASE {name} TEMPLATE {template}{strategy}");
        }

        return new TestDatabase(server, name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _template;

    /// <summary>
    /// The migrated template, made once and kept on the server: it is named after the migrations,
    /// so test processes running at once and later runs share it, and a changed migration gets a
    /// new one. It is built under a temporary name and renamed when complete, so a half-built
    /// template is never used.
    /// </summary>
    private static async Task<string> TemplateAsync(string server)
    {
        await TemplateGate.WaitAsync();
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            var name = "fk_template_" + MigrationsHash();
            await using var admin = new NpgsqlConnection(server);
            await admin.OpenAsync();
            await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", admin))
            {
                exists.Parameters.AddWithValue("name", name);
                if (await exists.ExecuteScalarAsync() is not null)
                {
                    return _template = name;
                }
            }

            var building = "fk_building_" + Guid.NewGuid().ToString("N");
            await ExecuteAsync(admin, $"CREATE DATABASE {building}");
            await using (var store = new PostgresFleetStore(new NpgsqlConnectionStringBuilder(server) { Database = building }.ConnectionString))
            {
                await store.InitializeAsync(TimeProvider.System, CancellationToken.None);
            }

            try
            {
                // Waits for the store's closed connections to go away, as a template must have none.
                await ExecuteAsync(admin, $"ALTER DATABASE {building} RENAME TO {name}");
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // Another test process finished the same template first: use that one.
                await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {building} WITH (FORCE)");
            }

            return _template = name;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    private static string MigrationsHash()
    {
        var text = string.Concat(PostgresFleetStore.Migrations.Select(m => $"{m.Version}\n{m.Name}\n{m.Sql}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>A database of its own for one test; dropped (closing any connection still open) on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _server;

    internal TestDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    /// <summary>An Npgsql connection string, as <c>serve --database</c> and PostgresFleetStore accept it.</summary>
    public string ConnectionString { get; }

    public async ValueTask DisposeAsync()
    {
        // Pooled idle connections to the database would hold it open; FORCE ends whatever is left.
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_server);
        await admin.OpenAsync();
        await TestPostgres.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }
}

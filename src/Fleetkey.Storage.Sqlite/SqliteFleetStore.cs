using System.Data.Common;
using Fleetkey.Storage.Migrations;
using Fleetkey.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace Fleetkey.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite database in WAL mode. Readers never block the writer; writers
/// take the write lock at BEGIN (IMMEDIATE) so two writers queue instead of failing on upgrade.
/// </summary>
public sealed class SqliteFleetStore : SqlFleetStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writerGate = new(1, 1);

    public SqliteFleetStore(string databasePath)
        : base(new SqliteDialect())
    {
        DatabasePath = Path.GetFullPath(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string DatabasePath { get; }

    /// <summary>SQLite has one writer; queueing writers here avoids its busy-wait (sleep and retry) under load.</summary>
    protected override SemaphoreSlim WriterGate => _writerGate;

    public void Dispose() => _writerGate.Dispose();

    public static IReadOnlyList<Migration> Migrations { get; } = MigrationRunner.FromResources(typeof(SqliteFleetStore).Assembly);

    /// <summary>Creates the database if needed, switches it to WAL and applies pending migrations.</summary>
    public async Task<IReadOnlyList<int>> InitializeAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }

        return await MigrationRunner.ApplyAsync(connection, Migrations, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    protected override async ValueTask<DbTransaction> BeginTransactionAsync(DbConnection connection, bool write, CancellationToken cancellationToken)
    {
        var sqlite = (SqliteConnection)connection;
        if (write)
        {
            // Only commits care, and the setting stays with the pooled connection. NORMAL is durable
            // across application crashes in WAL mode; only an OS crash may lose the last commits.
            await using var pragma = sqlite.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }

        return sqlite.BeginTransaction(deferred: !write);
    }

    private sealed class SqliteDialect : ISqlDialect
    {
        private const int SqliteConstraint = 19;
        private const int SqliteConstraintPrimaryKey = 1555;
        private const int SqliteConstraintUnique = 2067;
        private const int SqliteBusy = 5;

        public bool IsUniqueViolation(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: SqliteConstraint } e
            && e.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey;

        public bool IsRetryable(DbException exception) =>
            exception is SqliteException { SqliteErrorCode: SqliteBusy };

        public string SkipLocked => string.Empty;
    }
}

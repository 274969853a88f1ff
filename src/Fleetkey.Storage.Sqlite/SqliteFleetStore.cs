using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Fleetkey.Storage.Migrations;
using Fleetkey.Storage.Sql;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Fleetkey.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite database in WAL mode. Readers never block the writer; writers
/// take the write lock at BEGIN (IMMEDIATE) so two writers queue instead of failing on upgrade.
/// </summary>
public sealed class SqliteFleetStore : SqlFleetStore, IDisposable
{
    // Connections are kept open and reused by this store, most recent first (its page cache is warm):
    // opening one runs its pragmas, and each keeps its prepared statements.
    private const int MaxIdleConnections = 32;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writerGate = new(1, 1);
    private readonly ConcurrentStack<PooledSqliteConnection> _idle = new();
    private readonly Lock _watchLock = new();
    private PooledSqliteConnection? _watch;
    private int _idleCount;
    private int _disposed;

    public SqliteFleetStore(string databasePath)
        : base(new SqliteDialect())
    {
        DatabasePath = Path.GetFullPath(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string DatabasePath { get; }

    /// <summary>SQLite has one writer; queueing writers here avoids its busy-wait (sleep and retry) under load.</summary>
    protected override SemaphoreSlim WriterGate => _writerGate;

    /// <summary>SQLite commits one writer at a time: concurrent writes are committed in groups.</summary>
    public override bool GroupsWrites => true;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopWriter();
        while (_idle.TryPop(out var connection))
        {
            connection.Dispose();
        }

        lock (_watchLock)
        {
            _watch?.Dispose();
            _watch = null;
        }

        _writerGate.Dispose();
    }

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

    /// <summary>
    /// SQLite's <c>PRAGMA data_version</c> on a connection of its own: it changes when any other
    /// connection, in this process or another (the CLI), commits. A few microseconds, no transaction.
    /// </summary>
    public override ValueTask<long?> ChangeStampAsync(CancellationToken cancellationToken)
    {
        lock (_watchLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_watch is null)
            {
                var watch = new PooledSqliteConnection(_connectionString);
                watch.Open();
                _watch = watch;
            }

            return ValueTask.FromResult<long?>(_watch.Scalar("PRAGMA data_version"));
        }
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        if (_idle.TryPop(out var idle))
        {
            Interlocked.Decrement(ref _idleCount);
            return idle;
        }

        var connection = new PooledSqliteConnection(_connectionString);
        try
        {
            // Opening applies foreign_keys (from the connection string). synchronous is set once per
            // connection: NORMAL is durable across application crashes in WAL mode; only an OS crash
            // may lose the last commits.
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override ValueTask ReleaseConnectionAsync(DbConnection connection)
    {
        // A connection left in a transaction (never after RunOnceAsync, which ends each) is not reused.
        var pooled = (PooledSqliteConnection)connection;
        if (Volatile.Read(ref _disposed) == 0 && pooled.State == ConnectionState.Open && !pooled.InTransaction)
        {
            if (Interlocked.Increment(ref _idleCount) <= MaxIdleConnections)
            {
                _idle.Push(pooled);
                return ValueTask.CompletedTask;
            }

            Interlocked.Decrement(ref _idleCount);
        }

        return pooled.DisposeAsync();
    }

    protected override async ValueTask<DbTransaction> BeginTransactionAsync(DbConnection connection, bool write, CancellationToken cancellationToken)
    {
        // BEGIN and COMMIT through the connection's prepared commands: the provider's BeginTransaction
        // prepares both statements anew every time, a good part of the cost of a small read.
        var pooled = (PooledSqliteConnection)connection;
        await pooled.ExecuteAsync(write ? "BEGIN IMMEDIATE" : "BEGIN", cancellationToken);
        return new StatementTransaction(pooled);
    }

    /// <summary>A transaction begun by statement (see <see cref="IStatementTransaction"/>); rolled back on dispose unless it ended.</summary>
    private sealed class StatementTransaction(PooledSqliteConnection connection) : DbTransaction, IStatementTransaction
    {
        private bool _ended;

        public override IsolationLevel IsolationLevel => IsolationLevel.Serializable;

        protected override DbConnection DbConnection => connection;

        public override void Commit()
        {
            connection.Execute("COMMIT");
            _ended = true;
        }

        public override async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            await connection.ExecuteAsync("COMMIT", cancellationToken);
            _ended = true;
        }

        public override void Rollback()
        {
            _ended = true;
            connection.Execute("ROLLBACK");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_ended)
            {
                _ended = true;
                if (connection.InTransaction)
                {
                    connection.Execute("ROLLBACK");
                }
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A connection that keeps its prepared commands (Microsoft.Data.Sqlite keeps a command's statements prepared while its text is unchanged).</summary>
    private sealed class PooledSqliteConnection(string connectionString) : SqliteConnection(connectionString), ICommandCachingConnection
    {
        // Every statement Fleetkey runs is a constant or one of a few shapes; a bound keeps a run of
        // one-off texts (an import's batches) from piling up.
        private const int MaxCommands = 256;

        private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

        /// <summary>Whether a transaction is open on the connection, however it was begun.</summary>
        public bool InTransaction => Handle is { } handle && raw.sqlite3_get_autocommit(handle) == 0;

        public void Execute(string sql)
        {
            var command = RentCommand(sql) ?? NewCommand(sql);
            try
            {
                command.ExecuteNonQuery();
            }
            finally
            {
                ReturnCommand(command);
            }
        }

        public long Scalar(string sql)
        {
            var command = RentCommand(sql) ?? NewCommand(sql);
            try
            {
                return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            }
            finally
            {
                ReturnCommand(command);
            }
        }

        public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
        {
            var command = RentCommand(sql) ?? NewCommand(sql);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            finally
            {
                ReturnCommand(command);
            }
        }

        private SqliteCommand NewCommand(string sql)
        {
            var command = CreateCommand();
            command.CommandText = sql;
            return command;
        }

        public DbCommand? RentCommand(string sql)
        {
            if (_commands.Remove(sql, out var command))
            {
                return command;
            }

            if (_commands.Count >= MaxCommands)
            {
                return null;
            }

            command = CreateCommand();
            command.CommandText = sql;
            return command;
        }

        public void ReturnCommand(DbCommand command)
        {
            if (!_commands.TryAdd(command.CommandText, command))
            {
                command.Dispose();
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var command in _commands.Values)
                {
                    command.Dispose();
                }

                _commands.Clear();
            }

            base.Dispose(disposing);
        }
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

        public string Contains(string column, string parameter) => $"instr({column}, {parameter})";
    }
}

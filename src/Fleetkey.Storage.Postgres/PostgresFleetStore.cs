using System.Data;
using System.Data.Common;
using System.Globalization;
using Fleetkey.Storage.Migrations;
using Fleetkey.Storage.Sql;
using Npgsql;

namespace Fleetkey.Storage.Postgres;

/// <summary>
/// The store on PostgreSQL, for several Fleetkey nodes on one database. Writes run SERIALIZABLE, so
/// every rule the services check inside a transaction (unique names, versions, limits) holds across
/// nodes; a transaction that loses a race is retried from the start by <see cref="SqlFleetStore"/>.
/// </summary>
public sealed class PostgresFleetStore : SqlFleetStore, IAsyncDisposable
{
    // An application-chosen key for pg_advisory_lock: migrations run on one node at a time.
    private const long MigrationLockKey = 0x466C_6565_746B_6579; // "Fleetkey"

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly Lock _stampLock = new();
    private long _stamp;
    private long _stampReadAt;
    private long _commits;
    private Task<long?>? _stampReading;

    /// <param name="time">The clock <see cref="ChangeStampInterval"/> is measured on; the system's unless given.</param>
    public PostgresFleetStore(string connectionStringOrUrl, int? maxConcurrentWrites = null, TimeProvider? time = null)
        : base(new PostgresDialect())
    {
        var writers = maxConcurrentWrites ?? DefaultMaxConcurrentWrites;
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1, nameof(maxConcurrentWrites));
        _writerGate = new SemaphoreSlim(writers, writers);
        _time = time ?? TimeProvider.System;

        // Every query Fleetkey runs is written for an index. Under SERIALIZABLE a sequential scan
        // takes a predicate lock on the whole table, so on small or freshly created tables (where
        // the planner prefers scanning) every pair of concurrent writers conflicts and one is
        // retried; steering the planner to the indexes keeps the locks, and conflicts, per row.
        var builder = new NpgsqlConnectionStringBuilder(ToConnectionString(connectionStringOrUrl));
        builder.Options = string.Join(' ', new[] { builder.Options, "-c enable_seqscan=off" }.Where(o => !string.IsNullOrEmpty(o)));

        // Fleetkey runs a few dozen statement texts over and over: let Npgsql prepare them on each
        // connection (parse and plan once) unless the connection string says otherwise.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 128;
            builder.AutoPrepareMinUsages = 2;
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        DisplayName = string.Create(CultureInfo.InvariantCulture, $"postgres://{(string.IsNullOrEmpty(builder.Username) ? string.Empty : Uri.EscapeDataString(builder.Username) + "@")}{builder.Host}:{builder.Port}/{builder.Database}");
    }

    /// <summary>The database as <c>postgres://user@host:port/db</c>, for messages: never its password.</summary>
    public string DisplayName { get; }

    /// <summary>
    /// Write transactions this node runs at once; more wait their turn without a connection. Under
    /// SERIALIZABLE, concurrent writers that touch the same index pages (new things of neighbouring
    /// names, a young table of one page) make each other fail and retry, and past a few writers per
    /// core the retries cost more than the concurrency gains (BENCHMARKS.md, "What bounds each figure",
    /// has the seed-register runs that chose two writers per core).
    /// </summary>
    public static int DefaultMaxConcurrentWrites { get; } = Math.Max(4, 2 * Environment.ProcessorCount);

    private readonly SemaphoreSlim _writerGate;

    protected override SemaphoreSlim WriterGate => _writerGate;

    public static IReadOnlyList<Migration> Migrations { get; } = MigrationRunner.FromResources(typeof(PostgresFleetStore).Assembly);

    /// <summary>Accepts an Npgsql connection string or a <c>postgres://user:pass@host:port/db</c> URL.</summary>
    public static string ToConnectionString(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Whether Fleetkey's schema is in the database (at least one migration applied); false for an
    /// empty database, which only <c>serve</c>, <c>migrate</c> and <c>import</c> may initialise.
    /// </summary>
    public async Task<bool> HasSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var table = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", connection))
        {
            if (await table.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return false;
            }
        }

        await using var applied = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM schema_migrations)", connection);
        return await applied.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>Applies pending migrations under an advisory lock, so nodes starting together do not race.</summary>
    public async Task<IReadOnlyList<int>> InitializeAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            return await MigrationRunner.ApplyAsync(connection, Migrations, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async ValueTask<DbTransaction> BeginTransactionAsync(DbConnection connection, bool write, CancellationToken cancellationToken) =>
        await ((NpgsqlConnection)connection).BeginTransactionAsync(write ? IsolationLevel.Serializable : IsolationLevel.RepeatableRead, cancellationToken);

    /// <summary>How long a change stamp read from the database is used before it is read again.</summary>
    public static TimeSpan ChangeStampInterval { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The WAL insert position (<c>pg_current_wal_insert_lsn()</c>): every commit that changed data,
    /// by any node, moves it. It is read at most every <see cref="ChangeStampInterval"/> (one round trip
    /// for all callers meanwhile), and at once after a commit of this process. It also moves on writes
    /// that are not Fleetkey's (other databases of the cluster, vacuum): then a caller merely reads
    /// again. Null if the server does not answer it (a standby in recovery).
    /// </summary>
    public override ValueTask<long?> ChangeStampAsync(CancellationToken cancellationToken)
    {
        Task<long?> reading;
        lock (_stampLock)
        {
            if (_stampReadAt != 0 && _time.GetElapsedTime(_stampReadAt) < ChangeStampInterval)
            {
                return ValueTask.FromResult<long?>(_stamp);
            }

            reading = _stampReading ??= ReadStampAsync(Volatile.Read(ref _commits));

            // A read that finished at once (it failed before its first await) must not stay shared.
            if (reading.IsCompleted)
            {
                _stampReading = null;
            }
        }

        return new ValueTask<long?>(reading.WaitAsync(cancellationToken));
    }

    protected override void OnWriteCommitted()
    {
        Interlocked.Increment(ref _commits);
        lock (_stampLock)
        {
            _stampReadAt = 0;
        }
    }

    private async Task<long?> ReadStampAsync(long commitsBefore)
    {
        long? stamp = null;
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
            await using var command = new NpgsqlCommand("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint", connection);
            stamp = (long)(await command.ExecuteScalarAsync(CancellationToken.None))!;
            return stamp;
        }
        catch (PostgresException)
        {
            return null;
        }
        finally
        {
            lock (_stampLock)
            {
                _stampReading = null;

                // A commit of this process during the read may not be in it: then the next call reads again.
                if (stamp is { } read && Volatile.Read(ref _commits) == commitsBefore)
                {
                    _stamp = read;
                    _stampReadAt = _time.GetTimestamp();
                }
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _writerGate.Dispose();
        return _dataSource.DisposeAsync();
    }

    private sealed class PostgresDialect : ISqlDialect
    {
        public bool IsUniqueViolation(DbException exception) =>
            exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

        public bool IsRetryable(DbException exception) =>
            exception is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected };

        public string SkipLocked => " FOR UPDATE SKIP LOCKED";

        public string Contains(string column, string parameter) => $"strpos({column}, {parameter})";
    }
}

using System.Data.Common;
using Fleetkey.Core.Errors;

namespace Fleetkey.Storage.Sql;

/// <summary>The differences between the SQL databases Fleetkey runs on.</summary>
public interface ISqlDialect
{
    /// <summary>A unique or primary-key constraint was violated.</summary>
    bool IsUniqueViolation(DbException exception);

    /// <summary>The transaction lost a race and may be retried from the start.</summary>
    bool IsRetryable(DbException exception);

    /// <summary>
    /// What a queue consumer appends to its SELECT so that concurrent consumers skip each other's rows
    /// instead of waiting (<c>FOR UPDATE SKIP LOCKED</c>); empty where there is one writer anyway.
    /// </summary>
    string SkipLocked { get; }
}

/// <summary>
/// The store over ADO.NET, shared by every SQL database: it owns transactions and retries; the
/// repositories hold the SQL, which is written to run unchanged on SQLite and PostgreSQL.
/// </summary>
public abstract class SqlFleetStore : IFleetStore
{
    private const int MaxAttempts = 10;

    protected SqlFleetStore(ISqlDialect dialect)
    {
        Dialect = dialect;
    }

    public ISqlDialect Dialect { get; }

    /// <summary>
    /// Where the database admits one writer at a time (SQLite), a gate that queues this process's
    /// writers in memory instead of letting them poll the database's lock.
    /// </summary>
    protected virtual SemaphoreSlim? WriterGate => null;

    /// <summary>Opens a connection ready for use (pragmas or session settings applied).</summary>
    protected abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Gives back a connection from <see cref="OpenConnectionAsync"/>; a store that pools connections keeps it.</summary>
    protected virtual ValueTask ReleaseConnectionAsync(DbConnection connection) => connection.DisposeAsync();

    /// <summary>Begins a transaction; a write transaction takes the write lock at once where the database has one.</summary>
    protected abstract ValueTask<DbTransaction> BeginTransactionAsync(DbConnection connection, bool write, CancellationToken cancellationToken);

    public Task<T> ReadAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(work, write: false, cancellationToken);

    public Task<T> WriteAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(work, write: true, cancellationToken);

    /// <inheritdoc/>
    public virtual ValueTask<long?> ChangeStampAsync(CancellationToken cancellationToken) => ValueTask.FromResult<long?>(null);

    private async Task<T> RunAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        var gate = write ? WriterGate : null;
        if (gate is null)
        {
            return await RunCoreAsync(work, write, cancellationToken);
        }

        await gate.WaitAsync(cancellationToken);
        try
        {
            return await RunCoreAsync(work, write, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<T> RunCoreAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunOnceAsync(work, write, cancellationToken);
            }
            catch (DbException exception) when (Dialect.IsRetryable(exception) && attempt < MaxAttempts)
            {
                await Task.Delay(RetryDelay(attempt), cancellationToken);
            }
            catch (DbException exception) when (Dialect.IsRetryable(exception))
            {
                throw new ServiceException(ErrorCode.ServiceUnavailable, "The database is busy; retry the request.");
            }
        }
    }

    /// <summary>
    /// Exponential backoff with full jitter (2, 4, 8 … ms, capped at 200 ms, each a random fraction of
    /// that): transactions that collided once must not wake up together and collide again.
    /// </summary>
    private static TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(200, 2 << Math.Min(attempt, 10)));

    // One attempt in its own transaction. Disposing the transaction rolls it back unless it has
    // ended: an explicit rollback would throw when the failure came from COMMIT itself (PostgreSQL
    // reports serialization failures at commit, which ends the transaction).
    private async Task<T> RunOnceAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken);
        try
        {
            await using var transaction = await BeginTransactionAsync(connection, write, cancellationToken);
            var result = await work(new SqlSession(connection, transaction, Dialect), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            await ReleaseConnectionAsync(connection);
        }
    }

    /// <summary>Runs SQL outside the repositories (schema work, maintenance) on one connection.</summary>
    public async Task WithConnectionAsync(Func<DbConnection, Task> work, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken);
        try
        {
            await work(connection);
        }
        finally
        {
            await ReleaseConnectionAsync(connection);
        }
    }
}

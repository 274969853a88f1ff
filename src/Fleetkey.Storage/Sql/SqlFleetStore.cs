using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
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

    /// <summary>The SQL expression giving the 1-based position of <paramref name="parameter"/> in <paramref name="column"/> (0: absent), case-sensitive.</summary>
    string Contains(string column, string parameter);
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

    /// <summary>Called after this process committed a write transaction (a store caching its change stamp drops it).</summary>
    protected virtual void OnWriteCommitted()
    {
    }

    /// <summary>
    /// Where the database admits one writer at a time (SQLite): whether concurrent write transactions
    /// are committed together by one writer (see <see cref="GroupCommit"/>).
    /// </summary>
    public virtual bool GroupsWrites => false;

    /// <summary>The meter of the store's own instruments (the group-commit writer, retries), for the server's metrics.</summary>
    public const string MeterName = "Fleetkey.Storage";

    private static readonly Meter StoreMeter = new(MeterName);
    private static readonly Counter<long> GroupWrites = StoreMeter.CreateCounter<long>(
        "fleetkey.store.group_commit.writes", "{transaction}", "Write transactions run by the group-commit writer (SQLite), committed or failed.");

    private static readonly Counter<long> GroupCommits = StoreMeter.CreateCounter<long>(
        "fleetkey.store.group_commit.commits", "{commit}", "Database commits of the group-commit writer; writes over commits is the mean group size.");

    private static readonly Counter<double> WriterBusy = StoreMeter.CreateCounter<double>(
        "fleetkey.store.group_commit.busy", "s", "Time the single group-commit writer spent running write transactions; its rate is the writer's utilisation (1 = saturated).");

    private static readonly Counter<long> Retries = StoreMeter.CreateCounter<long>(
        "fleetkey.store.retries", "{transaction}", "Transactions run again because the database asked for it (PostgreSQL serialization failures and deadlocks between concurrent writers, SQLite busy); a measure of write contention.");

    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _writerStart = new();
    private Task? _writer;
    private int _gateWaiting;
    private int _queuedWrites;
    private int _writerBusy;
    private TaskCompletionSource? _writesWaitingChanged;

    /// <summary>
    /// Write transactions held back by the store: waiting at the writer gate while it is full, or queued
    /// behind the write the group-commit writer is running. A write is counted only before it runs and
    /// only while something else holds its turn, so tests can tell "held back by the limit" from "not
    /// there yet" without a clock.
    /// </summary>
    internal int WritesWaiting =>
        Volatile.Read(ref _gateWaiting) + (Volatile.Read(ref _writerBusy) != 0 ? Volatile.Read(ref _queuedWrites) : 0);

    /// <summary>Completes the next time <see cref="WritesWaiting"/> may have changed; take it before reading the count.</summary>
    internal Task NextWritesWaitingChange
    {
        get
        {
            var changed = Volatile.Read(ref _writesWaitingChanged);
            if (changed is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed = Interlocked.CompareExchange(ref _writesWaitingChanged, created, null) ?? created;
            }

            return changed.Task;
        }
    }

    // No signal is allocated unless something waits on NextWritesWaitingChange.
    private void WritesWaitingChanged() => Interlocked.Exchange(ref _writesWaitingChanged, null)?.TrySetResult();

    private void AddGateWaiting(int delta)
    {
        Interlocked.Add(ref _gateWaiting, delta);
        WritesWaitingChanged();
    }

    private void Queued()
    {
        Interlocked.Increment(ref _queuedWrites);
        WritesWaitingChanged();
    }

    // A queued write leaves the queue once: the writer begins it (and is busy until its group is done),
    // or drops it.
    private void Dequeued(PendingWrite pending, bool begins)
    {
        if (pending.Dequeue())
        {
            Interlocked.Decrement(ref _queuedWrites);
        }

        if (begins)
        {
            Volatile.Write(ref _writerBusy, 1);
        }

        WritesWaitingChanged();
    }

    private void WriterIdle()
    {
        Volatile.Write(ref _writerBusy, 0);
        WritesWaitingChanged();
    }

    /// <summary>Stops the group-commit writer: writes queued from now on fail.</summary>
    protected void StopWriter() => _writes.Writer.TryComplete();

    private async Task<T> RunAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        if (write && GroupsWrites)
        {
            return (T)(await EnqueueWriteAsync(async (session, ct) => (object?)await work(session, ct), cancellationToken))!;
        }

        var gate = write ? WriterGate : null;
        if (gate is null)
        {
            return await RunCoreAsync(work, write, cancellationToken);
        }

        if (!gate.Wait(0, cancellationToken))
        {
            AddGateWaiting(1);
            try
            {
                await gate.WaitAsync(cancellationToken);
            }
            finally
            {
                AddGateWaiting(-1);
            }
        }

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
                Retries.Add(1);
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
            if (write)
            {
                OnWriteCommitted();
            }

            return result;
        }
        finally
        {
            await ReleaseConnectionAsync(connection);
        }
    }

    private Task<object?> EnqueueWriteAsync(Func<IStoreSession, CancellationToken, Task<object?>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_writer is null)
        {
            lock (_writerStart)
            {
                _writer ??= StartWriterThread();
            }
        }

        var pending = new PendingWrite(work, new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        Queued();
        if (!_writes.Writer.TryWrite(pending))
        {
            Dequeued(pending, begins: false);
            throw new ObjectDisposedException(GetType().Name, "The store is closed.");
        }

        return pending.Done.Task;
    }

    // The writer has a thread of its own: it runs SQLite synchronously anyway, and on the thread pool
    // each group would wait for a worker behind the requests' own work, so groups commit smaller.
    private Task StartWriterThread()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                GroupCommit();
                done.SetResult();
            }
            catch (Exception exception)
            {
                done.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "Fleetkey store writer",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// Group commit: one writer takes every write transaction queued while the previous group
    /// committed and runs them in one database transaction, each inside its own savepoint. A write
    /// that fails is rolled back to its savepoint alone and fails alone; the others commit together,
    /// and each is answered only once that commit is done. One BEGIN and one COMMIT (the part of a
    /// write that touches the disk) serve the whole group, and writers do not hand a lock to each
    /// other. If the group itself fails (BEGIN, COMMIT, a busy database), nothing of it is kept and
    /// each write runs again on its own, with the usual retries.
    /// </summary>
    private void GroupCommit()
    {
        var group = new List<PendingWrite>(MaxGroup);
        while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            group.Clear();
            while (group.Count < MaxGroup && _writes.Reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                {
                    Dequeued(pending, begins: false);
                    pending.Done.TrySetCanceled(pending.CancellationToken);
                }
                else
                {
                    group.Add(pending);
                }
            }

            if (group.Count == 0)
            {
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var commits = 1;
            if (group.Count == 1)
            {
                RunAloneAsync(group[0]).GetAwaiter().GetResult();
            }
            else if (!TryRunGroupAsync(group).GetAwaiter().GetResult())
            {
                foreach (var pending in group)
                {
                    RunAloneAsync(pending).GetAwaiter().GetResult();
                }

                commits = group.Count;
            }

            WriterIdle();
            WriterBusy.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            GroupWrites.Add(group.Count);
            GroupCommits.Add(commits);
        }
    }

    private const int MaxGroup = 64;
    private const string Savepoint = "fleetkey_write";

    private async Task RunAloneAsync(PendingWrite pending)
    {
        Dequeued(pending, begins: true);
        try
        {
            pending.Done.TrySetResult(await RunCoreAsync(pending.Work, write: true, pending.CancellationToken));
        }
        catch (OperationCanceledException) when (pending.CancellationToken.IsCancellationRequested)
        {
            pending.Done.TrySetCanceled(pending.CancellationToken);
        }
        catch (Exception exception)
        {
            pending.Done.TrySetException(exception);
        }
    }

    // True when the group committed (every write is answered); false when it must be run write by write.
    private async Task<bool> TryRunGroupAsync(List<PendingWrite> group)
    {
        var outcomes = new (object? Value, Exception? Error)[group.Count];
        DbConnection connection;
        try
        {
            connection = await OpenConnectionAsync(CancellationToken.None);
        }
        catch (DbException)
        {
            // No connection (the database cannot be opened): each write then fails on its own, and the writer lives on.
            return false;
        }

        try
        {
            await using (var transaction = await BeginTransactionAsync(connection, write: true, CancellationToken.None))
            {
                var session = new SqlSession(connection, transaction, Dialect);
                for (var i = 0; i < group.Count; i++)
                {
                    var pending = group[i];
                    await session.ExecuteAsync($"SAVEPOINT {Savepoint}", CancellationToken.None);
                    Dequeued(pending, begins: true);
                    try
                    {
                        outcomes[i] = (await pending.Work(session, pending.CancellationToken), null);
                    }
                    catch (DbException exception) when (Dialect.IsRetryable(exception))
                    {
                        // The database may have ended the whole transaction: the group starts over, write by write.
                        return false;
                    }
                    catch (Exception exception)
                    {
                        outcomes[i] = (null, exception);
                        await session.ExecuteAsync($"ROLLBACK TO {Savepoint}", CancellationToken.None);
                    }

                    await session.ExecuteAsync($"RELEASE {Savepoint}", CancellationToken.None);
                }

                await transaction.CommitAsync(CancellationToken.None);
            }

            OnWriteCommitted();
        }
        catch (DbException)
        {
            // BEGIN, a savepoint or COMMIT failed: nothing of the group is kept.
            return false;
        }
        finally
        {
            await ReleaseConnectionAsync(connection);
        }

        for (var i = 0; i < group.Count; i++)
        {
            var (value, error) = outcomes[i];
            if (error is null)
            {
                group[i].Done.TrySetResult(value);
            }
            else if (error is OperationCanceledException && group[i].CancellationToken.IsCancellationRequested)
            {
                group[i].Done.TrySetCanceled(group[i].CancellationToken);
            }
            else
            {
                group[i].Done.TrySetException(error);
            }
        }

        return true;
    }

    private sealed class PendingWrite(Func<IStoreSession, CancellationToken, Task<object?>> work, TaskCompletionSource<object?> done, CancellationToken cancellationToken)
    {
        private int _dequeued;

        public Func<IStoreSession, CancellationToken, Task<object?>> Work { get; } = work;

        public TaskCompletionSource<object?> Done { get; } = done;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        /// <summary>True the first time only: the write leaves the queue (a group that failed runs its writes again).</summary>
        public bool Dequeue() => Interlocked.Exchange(ref _dequeued, 1) == 0;
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

namespace Fleetkey.Storage;

/// <summary>
/// The store behind the application layer. Every unit of work runs in one database transaction:
/// <see cref="WriteAsync{T}"/> commits when the delegate returns and rolls back when it throws. The
/// delegate may run more than once when the database asks for a retry (serialization failures on
/// PostgreSQL), so it must not have effects outside the session.
/// </summary>
public interface IFleetStore
{
    Task<T> ReadAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    Task<T> WriteAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// A number that changes whenever anything is committed to the store, by this process or another
    /// (the CLI, another node), so that a caller may keep what it read until it changes; null when the
    /// store cannot tell cheaply (then nothing may be kept).
    /// </summary>
    /// <remarks>
    /// Commits of this process show at the next call. A store may read the stamp from the database at
    /// most every few milliseconds and then show another process's commit that much later: SQLite
    /// shows it at once, PostgreSQL within <c>PostgresFleetStore.ChangeStampInterval</c> (100 ms).
    /// </remarks>
    ValueTask<long?> ChangeStampAsync(CancellationToken cancellationToken) => ValueTask.FromResult<long?>(null);

    /// <summary>
    /// Whether one writer runs every write transaction of this store in turn, committing the waiting ones
    /// together (SQLite): then a transaction that reads and moves a shared row (a chain's head) never
    /// conflicts with another, and the store gathers small writes into one commit by itself.
    /// </summary>
    bool GroupsWrites => false;
}

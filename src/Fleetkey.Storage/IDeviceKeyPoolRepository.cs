namespace Fleetkey.Storage;

/// <summary>The pool of device keys generated ahead of demand. Every key is handed out once.</summary>
public interface IDeviceKeyPoolRepository
{
    Task AddAsync(IReadOnlyList<StoredPooledKey> keys, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Removes up to <paramref name="count"/> keys of the algorithm, oldest first, and returns them:
    /// a key returned here is never returned again, also to another node on the same database.
    /// </summary>
    Task<IReadOnlyList<StoredPooledKey>> TakeAsync(string algorithm, int count, CancellationToken cancellationToken);

    Task<int> CountAsync(string algorithm, CancellationToken cancellationToken);

    /// <summary>Deletes the keys stored in the clear (once a passphrase is configured they must not stay at rest).</summary>
    Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken);
}

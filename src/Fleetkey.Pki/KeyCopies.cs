using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Fleetkey.Pki;

/// <summary>
/// One private key for concurrent signers. <see cref="AsymmetricAlgorithm"/> instances are not documented
/// as safe for concurrent use, so each concurrent use gets its own copy of the key; copies are reused,
/// not recreated. Owns the key: disposing disposes it and every copy, also one returned afterwards.
/// </summary>
internal sealed class KeyCopies(AsymmetricAlgorithm key) : IDisposable
{
    private readonly ConcurrentBag<AsymmetricAlgorithm> _copies = [];
    private readonly Lock _keyLock = new();
    private int _disposed;

    /// <summary>Runs <paramref name="use"/> with a copy of the key no other thread holds meanwhile.</summary>
    public T Use<T>(Func<AsymmetricAlgorithm, T> use)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var copy = Rent();
        try
        {
            return use(copy);
        }
        finally
        {
            Return(copy);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        DisposeCopies();
        lock (_keyLock)
        {
            key.Dispose();
        }
    }

    private AsymmetricAlgorithm Rent()
    {
        if (_copies.TryTake(out var copy))
        {
            return copy;
        }

        lock (_keyLock)
        {
            return Keys.Clone(key);
        }
    }

    private void Return(AsymmetricAlgorithm copy)
    {
        _copies.Add(copy);

        // A use that finished after Dispose must not leave its copy behind.
        if (Volatile.Read(ref _disposed) != 0)
        {
            DisposeCopies();
        }
    }

    private void DisposeCopies()
    {
        while (_copies.TryTake(out var copy))
        {
            copy.Dispose();
        }
    }
}

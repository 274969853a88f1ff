using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Pki;

/// <summary>
/// Where the device key pool's keys are, and their moves between those places: ready in memory (the
/// buffer), generated but not yet stored (pending), and in the store (counted here, not held). Every
/// key leaves once: from the buffer or pending by a dequeue, from the store by a take that deletes the
/// row. Each change completes <see cref="NextChange"/>.
/// </summary>
internal sealed class DeviceKeyStock
{
    private readonly IDeviceKeyStore? _store;
    private readonly DeviceKeySealer _sealer;
    private readonly ConcurrentQueue<DeviceKey> _buffer = new();
    private readonly List<DeviceKey> _pending = [];
    private readonly Lock _pendingLock = new();
    private readonly Lock _storedLock = new();

    // Completed (and replaced) whenever keys arrive or the store's count changes: a request waiting for
    // keys on their way from the store waits on it, and so do tests.
    private TaskCompletionSource _changed = NewSignal();
    private int _buffered;
    private int _pendingCount;
    private int _storeTakesInFlight;
    private int _stored;

    // Bumped (under _storedLock) by every change this node makes to _stored, so that a recount that
    // raced with one is not written over it (a recount read before a flush would hide that flush's keys).
    private long _storedVersion;

    /// <param name="bufferSize">Keys held in memory in front of the store (without a store, all are).</param>
    public DeviceKeyStock(KeyAlgorithm algorithm, int capacity, IDeviceKeyStore? store, int bufferSize, string? passphrase)
    {
        Algorithm = algorithm;
        Capacity = capacity;
        _store = capacity > 0 ? store : null;
        BufferTarget = _store is null ? capacity : Math.Min(capacity, bufferSize);
        _sealer = new DeviceKeySealer(passphrase);
    }

    public KeyAlgorithm Algorithm { get; }

    public int Capacity { get; }

    public int BufferTarget { get; }

    public bool Persistent => _store is not null;

    public bool EncryptsAtRest => _sealer.Encrypts;

    /// <summary>Where discarded stored keys are reported (the pool's logger, once it starts).</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    public int Buffered => Volatile.Read(ref _buffered);

    /// <summary>Keys in the store, as last counted (other nodes may have taken some since).</summary>
    public int Stored => Volatile.Read(ref _stored);

    /// <summary>Keys ready: stored, buffered and generated but not yet stored.</summary>
    public int Available => Stored + Buffered + Volatile.Read(ref _pendingCount);

    /// <summary>Takes from the store whose keys are not in the buffer yet.</summary>
    public int StoreTakesInFlight => Volatile.Read(ref _storeTakesInFlight);

    /// <summary>Completes at the next change. Take it before looking, so that a change in between is not missed.</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>
    /// Counts the stored keys and, with a passphrase, deletes keys stored in the clear (written before a
    /// passphrase was configured: they sat unencrypted at rest). Returns how many it deleted.
    /// </summary>
    public async Task<int> PrepareAsync(CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return 0;
        }

        var deleted = _sealer.Encrypts ? await _store.DeleteUnsealedAsync(cancellationToken) : 0;
        Volatile.Write(ref _stored, await _store.CountAsync(Algorithm, cancellationToken));
        SignalChange();

        // PBKDF2 once, now, rather than at the first sealed key.
        _sealer.Warm();
        return deleted;
    }

    /// <summary>A key from the buffer, with how many are left there.</summary>
    public DeviceKey? TryDequeue(out int left)
    {
        if (!_buffer.TryDequeue(out var key))
        {
            left = Buffered;
            return null;
        }

        left = Interlocked.Decrement(ref _buffered);
        return key;
    }

    /// <summary>A key the generator made: into the buffer while it has room, else pending for the store. Returns how many are pending.</summary>
    public int AddGenerated(DeviceKey key)
    {
        var pending = 0;
        if (_store is null || Buffered < BufferTarget)
        {
            Enqueue(key);
        }
        else
        {
            lock (_pendingLock)
            {
                _pending.Add(key);
                pending = Interlocked.Increment(ref _pendingCount);
            }
        }

        SignalChange();
        return pending;
    }

    /// <summary>A key the generator made but has not stored yet: no round trip.</summary>
    public DeviceKey? TakePending()
    {
        lock (_pendingLock)
        {
            if (_pending.Count == 0)
            {
                return null;
            }

            var key = _pending[^1];
            _pending.RemoveAt(_pending.Count - 1);
            Interlocked.Decrement(ref _pendingCount);
            return key;
        }
    }

    /// <summary>Moves up to <paramref name="count"/> pending keys into the buffer; returns how many it moved.</summary>
    public int MovePendingToBuffer(int count)
    {
        int moved;
        lock (_pendingLock)
        {
            moved = Math.Min(count, _pending.Count);
            for (var i = 0; i < moved; i++)
            {
                Enqueue(_pending[i]);
            }

            _pending.RemoveRange(0, moved);
            Interlocked.Add(ref _pendingCount, -moved);
        }

        SignalChange();
        return moved;
    }

    /// <summary>Writes the pending keys to the store; false when there were none. Keys it could not store stay pending.</summary>
    public async Task<bool> FlushPendingAsync(CancellationToken cancellationToken)
    {
        List<DeviceKey> keys;
        lock (_pendingLock)
        {
            if (_pending.Count == 0)
            {
                return false;
            }

            keys = [.. _pending];
            _pending.Clear();
        }

        try
        {
            await StoreAsync(keys, cancellationToken);
        }
        catch
        {
            // Not stored: keep them for the next attempt (or the stop).
            lock (_pendingLock)
            {
                _pending.InsertRange(0, keys);
            }

            throw;
        }

        Interlocked.Add(ref _pendingCount, -keys.Count);
        keys.ForEach(k => k.Dispose());
        SignalChange();
        return true;
    }

    /// <summary>
    /// Removes up to <paramref name="count"/> keys from the store into the buffer (a key sealed under
    /// another passphrase is discarded), keeping one out for the caller if asked; returns how many rows
    /// it took. While it runs, requests that find the buffer empty wait for its keys instead of
    /// generating their own (<see cref="StoreTakesInFlight"/>).
    /// </summary>
    public async Task<(int Taken, DeviceKey? Kept)> MoveStoredAsync(int count, bool keepOne, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _storeTakesInFlight);
        try
        {
            var taken = await _store!.TakeAsync(Algorithm, count, cancellationToken);
            DeviceKey? kept = null;
            var unusable = 0;
            foreach (var sealedKey in taken)
            {
                if (_sealer.Open(sealedKey) is not { } key)
                {
                    unusable++;
                }
                else if (keepOne && kept is null)
                {
                    kept = key;
                }
                else
                {
                    Enqueue(key);
                }
            }

            // Counted out of the store only once they are in the buffer: in between, the pool would
            // look short of keys, and the generator would make some it does not need.
            AdjustStored(-taken.Count, emptied: taken.Count < count);
            if (unusable > 0)
            {
                DeviceKeyPoolLog.UnusableKeys(Logger, unusable);
            }

            return (taken.Count, kept);
        }
        finally
        {
            Interlocked.Decrement(ref _storeTakesInFlight);
            SignalChange();
        }
    }

    /// <summary>Counts the stored keys again: other nodes take keys from the same store.</summary>
    public async Task RecountAsync(CancellationToken cancellationToken)
    {
        var version = Interlocked.Read(ref _storedVersion);
        var counted = await _store!.CountAsync(Algorithm, cancellationToken);
        lock (_storedLock)
        {
            if (_storedVersion == version)
            {
                Volatile.Write(ref _stored, counted);
            }
        }

        SignalChange();
    }

    /// <summary>Puts the keys held in memory (pending and buffered) in the store, so a restart loses none.</summary>
    public async Task PutBackAsync(CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return;
        }

        var keys = TakeHeld();
        try
        {
            await StoreAsync(keys, cancellationToken);
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }

    /// <summary>Disposes the keys held in memory (pending and buffered).</summary>
    public void DisposeKeys() => TakeHeld().ForEach(k => k.Dispose());

    public void SignalChange() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    // Every key held in memory, pending and buffered, out of the pool.
    private List<DeviceKey> TakeHeld()
    {
        var keys = new List<DeviceKey>();
        lock (_pendingLock)
        {
            keys.AddRange(_pending);
            _pending.Clear();
            Volatile.Write(ref _pendingCount, 0);
        }

        while (_buffer.TryDequeue(out var key))
        {
            Interlocked.Decrement(ref _buffered);
            keys.Add(key);
        }

        return keys;
    }

    private async Task StoreAsync(List<DeviceKey> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0 || _store is null)
        {
            return;
        }

        await _store.AddAsync(keys.Select(k => _sealer.Seal(k)).ToList(), cancellationToken);
        AdjustStored(keys.Count);
    }

    private void AdjustStored(int delta, bool emptied = false)
    {
        lock (_storedLock)
        {
            Volatile.Write(ref _stored, emptied ? 0 : Math.Max(0, _stored + delta));
            _storedVersion++;
        }
    }

    private void Enqueue(DeviceKey key)
    {
        _buffer.Enqueue(key);
        Interlocked.Increment(ref _buffered);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Pki;

/// <summary>
/// Device keys generated ahead of demand. An RSA-2048 key costs ~0.3 s of CPU, far more than the rest
/// of CreateKeysAndCertificate, so a background thread generates keys while the server is idle and a
/// burst of requests only signs.
/// </summary>
/// <remarks>
/// <para>
/// With an <see cref="IDeviceKeyStore"/> the pool is persistent: keys wait in the database (sealed by
/// <see cref="DeviceKeySealer"/>), survive restarts and are shared by the nodes of one database, and a
/// small in-memory buffer in front of them is topped up in the background, so a request rarely waits
/// for the database to get a key (only when a burst empties the buffer faster than it is topped up). Without a store, the pool is that buffer alone.
/// </para>
/// <para>
/// Every key is handed out once: from the buffer by a dequeue, from the store by a delete that
/// returns the row. A key taken from the store but not handed out before the process ends is lost,
/// never handed out twice; a graceful stop puts the buffer back in the store.
/// </para>
/// <para>
/// The generator is one thread, so it never takes more than one core, and runs at a low OS priority
/// (nice 10), so a request that arrives mid-generation is scheduled ahead of it. It makes a first
/// tranche (<see cref="FirstTranche"/> keys, what the buffer holds) whether or not requests are in
/// flight, so that a client calling a fresh server back to back finds keys ready; after that it
/// starts a key only when the server is idle (no request in flight, as the host reports it). When the
/// pool is empty, requests generate their key themselves, on every core; while the store holds keys,
/// a request that finds the buffer empty takes a batch from the store instead (see
/// <see cref="TakeAsync"/>). How far the pool has filled is logged per tenth (see
/// <see cref="DeviceKeyPoolProgress"/>).
/// </para>
/// </remarks>
public sealed partial class DeviceKeyPool : IDisposable
{
    /// <summary>Keys generated per store write while filling: one INSERT and one commit per batch.</summary>
    internal const int StoreBatch = 8;

    /// <summary>Keys a request takes from the store when the memory buffer is empty (one for itself).</summary>
    internal const int DirectTakeBatch = 32;

    /// <summary>
    /// Keys made busy server or not, before the generator waits for idle moments: what one buffer
    /// holds, ~10–20 s of one core for RSA-2048.
    /// </summary>
    /// <remarks>
    /// At low priority like the rest: made at normal priority, it slowed the first request of a fresh
    /// server (~0.5 s of CPU while everything warms up) on a busy machine more than its keys sped up
    /// the next ones.
    /// </remarks>
    public const int FirstTranche = 64;

    private static readonly TimeSpan RecountInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan GeneratorStopWait = TimeSpan.FromSeconds(1);

    private readonly string _algorithmName;
    private readonly IDeviceKeyStore? _store;
    private readonly DeviceKeySealer _sealer;
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<DeviceKey> _buffer = new();
    private readonly List<DeviceKey> _pending = [];
    private readonly Queue<long> _generatedAt = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly int _firstTranche;
    private readonly KeyGenerationTime _generationTime;
    private DeviceKeyPoolProgress? _progress;

    // Whether the pool has held the first tranche since start (a restart on a filled store has); the
    // generator thread's own after Start.
    private bool _trancheMade;

    // Completed (and replaced) whenever keys arrive or the store's count changes: a request waiting for
    // keys on their way from the store waits on it, and so do tests.
    private TaskCompletionSource _changed = NewSignal();
    private readonly AutoResetEvent _generatorWake = new(initialState: false);
    private readonly SemaphoreSlim _prefetchWake = new(0, 1);
    private Func<bool> _isIdle = static () => true;
    private ILogger _logger = NullLogger.Instance;
    private Task _generator = Task.CompletedTask;
    private Task _prefetcher = Task.CompletedTask;
    private int _buffered;
    private int _pendingCount;
    private int _storeTakesInFlight;
    private int _stored;

    // Bumped (under _storedLock) by every change this node makes to _stored, so that a recount that
    // raced with one is not written over it (a recount read before a flush would hide that flush's keys).
    private long _storedVersion;
    private readonly Lock _storedLock = new();
    private long _generated;
    private long _handedOutPooled;
    private long _handedOutGenerated;
    private int _started;
    private int _disposed;

    /// <param name="capacity">How many keys to keep ready (stored plus buffered); 0 generates every key on demand.</param>
    /// <param name="bufferSize">How many of them to hold in memory in front of the store (ignored without a store: then all are).</param>
    /// <param name="passphrase">Seals stored keys (see <see cref="DeviceKeySealer"/>); null stores them in the clear, as the CA keys are then.</param>
    /// <param name="meter">Where the pool's instruments go (the host's <c>Fleetkey</c> meter); null for none.</param>
    /// <param name="firstTranche">Keys made whether or not the server is idle (see <see cref="FirstTranche"/>).</param>
    public DeviceKeyPool(
        KeyAlgorithm algorithm,
        int capacity,
        IDeviceKeyStore? store = null,
        int bufferSize = 64,
        string? passphrase = null,
        Meter? meter = null,
        TimeProvider? time = null,
        int firstTranche = FirstTranche)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstTranche);
        Algorithm = algorithm;
        _algorithmName = PkiOptions.FormatAlgorithm(algorithm);
        Capacity = capacity;
        _store = capacity > 0 ? store : null;
        BufferTarget = _store is null ? capacity : Math.Min(capacity, bufferSize);
        _sealer = new DeviceKeySealer(passphrase);
        _time = time ?? TimeProvider.System;
        _firstTranche = Math.Min(firstTranche, capacity);
        _generationTime = new KeyGenerationTime(algorithm);
        if (meter is not null)
        {
            CreateInstruments(meter);
        }
    }

    public KeyAlgorithm Algorithm { get; }

    /// <summary>The algorithm as configured and stored ("rsa-2048", "ec-p256").</summary>
    public string AlgorithmName => _algorithmName;

    /// <summary>How many keys the pool keeps ready.</summary>
    public int Capacity { get; }

    /// <summary>How many keys the generator makes whether or not the server is idle (see <see cref="FirstTranche"/>).</summary>
    public int FirstTrancheSize => _firstTranche;

    /// <summary>How many keys the in-memory buffer holds when full.</summary>
    public int BufferTarget { get; }

    /// <summary>Whether keys wait in a store (and survive restarts), not only in memory.</summary>
    public bool Persistent => _store is not null;

    /// <summary>Whether stored keys are encrypted (a passphrase is configured).</summary>
    public bool EncryptsAtRest => _sealer.Encrypts;

    /// <summary>Keys ready in memory.</summary>
    public int Buffered => Volatile.Read(ref _buffered);

    /// <summary>Keys ready in the store, as last counted (other nodes may have taken some since).</summary>
    public int Stored => Volatile.Read(ref _stored);

    /// <summary>Keys ready: stored, buffered and generated but not yet stored.</summary>
    public int Available => Stored + Buffered + Volatile.Read(ref _pendingCount);

    /// <summary>Keys the background generator made since start.</summary>
    public long Generated => Interlocked.Read(ref _generated);

    /// <summary>Keys handed out from the pool, and keys generated on demand because it was empty.</summary>
    public (long Pooled, long GeneratedOnDemand) HandedOut => (Interlocked.Read(ref _handedOutPooled), Interlocked.Read(ref _handedOutGenerated));

    /// <summary>
    /// How long a request waits, at most, for keys on their way from the store before it generates its
    /// own: what a generation takes now (see <see cref="KeyGenerationTime"/>).
    /// </summary>
    public TimeSpan Patience => _generationTime.Current;

    /// <summary>
    /// A task that completes the next time keys arrive (generated, stored, moved into the buffer) or a
    /// store take ends. Take it before looking at the pool, so that a change in between is not missed.
    /// </summary>
    internal Task NextChange => Volatile.Read(ref _changed).Task;

    /// <summary>Keys per second the generator made over the last minute.</summary>
    public double FillRate
    {
        get
        {
            lock (_generatedAt)
            {
                TrimRateWindow();
                return _generatedAt.Count / RateWindow.TotalSeconds;
            }
        }
    }

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

    /// <summary>Starts filling in the background.</summary>
    /// <param name="isIdle">Whether the server is idle; the generator starts a key only then. Null: always.</param>
    /// <param name="logger">Where the fill's progress and failures go.</param>
    public void Start(Func<bool>? isIdle = null, ILogger? logger = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Capacity == 0 || Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        _isIdle = isIdle ?? _isIdle;
        _logger = logger ?? _logger;
        _progress = new DeviceKeyPoolProgress(_algorithmName, Capacity, Available, Generated, _time, _logger);
        _trancheMade = Available >= _firstTranche;
        var generatorDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _generator = generatorDone.Task;

        // A dedicated thread: key generation is CPU-bound and blocking, and at a low priority it
        // must not hold a thread-pool thread that requests need.
        var thread = new Thread(() =>
        {
            try
            {
                Generate();
                generatorDone.SetResult();
            }
            catch (Exception exception)
            {
                generatorDone.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "Fleetkey key pool",
            Priority = ThreadPriority.Lowest,
        };
        thread.Start();
        if (_store is not null)
        {
            _prefetcher = Task.Run(PrefetchAsync);
        }
    }

    /// <summary>
    /// A fresh key, from the pool when one is ready, else generated now. The caller owns it.
    /// </summary>
    /// <remarks>
    /// The memory buffer first; when a burst has emptied it and the store still holds keys, the request
    /// takes a batch from the store itself (one transaction, the rest goes into the buffer for the
    /// requests behind it) rather than generating: a stored key costs a database round trip and an
    /// unseal, a generated RSA key ~0.2 s of CPU. When the store looks empty but another take's batch
    /// is on its way to the buffer, the request waits for it, but never longer than generating its own
    /// key would take (<see cref="Patience"/>). Only an empty pool generates on demand.
    /// </remarks>
    public async ValueTask<DeviceKey> TakeAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var started = _time.GetTimestamp();
        var patience = Patience;
        while (true)
        {
            var changed = NextChange;
            if (TryDequeue() is { } key)
            {
                return key;
            }

            if (_store is null)
            {
                break;
            }

            key = TakePending();
            var tookFromStore = false;
            if (key is null && Stored > 0)
            {
                key = await TakeFromStoreAsync(cancellationToken);
                tookFromStore = true;
            }

            if (key is not null)
            {
                Interlocked.Increment(ref _handedOutPooled);
                Wake();
                return key;
            }

            // The store had nothing left: other requests' batches may have filled the buffer meanwhile.
            if (tookFromStore)
            {
                continue;
            }

            // The store looks empty, but another request's (or the prefetch's) batch may be on its way
            // to the buffer: wait for it rather than generate a key, unless generating is quicker.
            if (Volatile.Read(ref _storeTakesInFlight) == 0 || !await WaitForChangeAsync(changed, started, patience, cancellationToken))
            {
                break;
            }
        }

        Interlocked.Increment(ref _handedOutGenerated);
        Wake();
        var generating = _time.GetTimestamp();
        var generated = DeviceKey.Generate(Algorithm);
        _generationTime.Record(_time.GetElapsedTime(generating));
        return generated;
    }

    // Waits for the next change until `patience` after `started`; false once that has passed.
    private async ValueTask<bool> WaitForChangeAsync(Task changed, long started, TimeSpan patience, CancellationToken cancellationToken)
    {
        var left = patience - _time.GetElapsedTime(started);
        if (left <= TimeSpan.Zero)
        {
            return false;
        }

        var wait = changed.WaitAsync(left, _time, cancellationToken);

        // The clock may have moved between reading it and arming the timer (a test's fake clock can).
        if (_time.GetElapsedTime(started) >= patience)
        {
            return false;
        }

        await wait.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        return changed.IsCompleted;
    }

    private DeviceKey? TryDequeue()
    {
        if (!_buffer.TryDequeue(out var key))
        {
            return null;
        }

        var left = Interlocked.Decrement(ref _buffered);
        Interlocked.Increment(ref _handedOutPooled);
        if (left <= BufferTarget / 2)
        {
            Wake();
        }
        else
        {
            _generatorWake.Set();
        }

        return key;
    }

    // A key the generator made but has not stored yet: no round trip.
    private DeviceKey? TakePending()
    {
        lock (_pending)
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

    // The buffer is empty: one key for this request and the rest of a batch for the next ones.
    private async Task<DeviceKey?> TakeFromStoreAsync(CancellationToken cancellationToken) =>
        (await MoveStoredAsync(DirectTakeBatch, keepOne: true, cancellationToken)).Kept;

    /// <summary>
    /// Stops filling and puts the keys held in memory back in the store, so a restart loses none.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _generatorWake.Set();
        await _prefetcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // A key generation cannot be interrupted, and at low priority on a busy machine it may take
        // seconds: stop does not wait long for it. A key it finishes after this is discarded.
        await ((Task)Task.WhenAny(_generator, Task.Delay(GeneratorStopWait, _time, cancellationToken))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_store is null)
        {
            return;
        }

        var keys = new List<DeviceKey>();
        lock (_pending)
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

        try
        {
            await StoreAsync(keys, cancellationToken);
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _generatorWake.Set();
        _prefetcher.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
        var generatorDone = _generator.ContinueWith(static _ => { }, TaskScheduler.Default).Wait(GeneratorStopWait);
        while (_buffer.TryDequeue(out var key))
        {
            Interlocked.Decrement(ref _buffered);
            key.Dispose();
        }

        lock (_pending)
        {
            _pending.ForEach(k => k.Dispose());
            _pending.Clear();
            Volatile.Write(ref _pendingCount, 0);
        }

        _prefetchWake.Dispose();
        if (generatorDone)
        {
            // Otherwise the generator thread still holds them; it ends at its next check.
            _stopping.Dispose();
            _generatorWake.Dispose();
        }
    }

    private void Wake()
    {
        _generatorWake.Set();
        if (_store is not null && _prefetchWake.CurrentCount == 0)
        {
            try
            {
                _prefetchWake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another take woke it at the same moment.
            }
        }
    }

    private void Generate()
    {
        LowerThreadPriority();
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                // The first tranche is made whether or not requests are in flight, so that a client
                // calling back to back from the start (never leaving the server idle) finds keys ready.
                var available = Available;
                _trancheMade |= available >= _firstTranche;
                if (available >= Capacity)
                {
                    Flush(token);
                    WaitHandle.WaitAny([_generatorWake, token.WaitHandle], RecountInterval);
                    continue;
                }

                _progress!.Observe(available, Generated);
                if (_trancheMade && !_isIdle())
                {
                    // Requests first: what was made so far goes where they can get it, then wait.
                    Flush(token);
                    WaitHandle.WaitAny([_generatorWake, token.WaitHandle], BusyPoll);
                    continue;
                }

                var key = DeviceKey.Generate(Algorithm);
                if (token.IsCancellationRequested)
                {
                    key.Dispose();
                    return;
                }

                // Said before the key is in the pool: whoever sees it there sees the line about it too.
                RecordGenerated();
                _progress.Adding(Available + 1, Generated);
                var pending = 0;
                if (_store is null || Buffered < BufferTarget)
                {
                    Enqueue(key);
                }
                else
                {
                    lock (_pending)
                    {
                        _pending.Add(key);
                        pending = Interlocked.Increment(ref _pendingCount);
                    }
                }

                SignalChange();
                if (pending >= StoreBatch)
                {
                    Flush(token);
                }
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                LogFillFailed(_logger, exception);
                token.WaitHandle.WaitOne(RecountInterval);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // Writes the generated keys to the store (on the generator thread; blocking is fine there).
    private void Flush(CancellationToken cancellationToken)
    {
        List<DeviceKey> keys;
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            keys = [.. _pending];
            _pending.Clear();
        }

        try
        {
            StoreAsync(keys, cancellationToken).GetAwaiter().GetResult();
        }
        catch
        {
            // Not stored: keep them for the next attempt (or the stop).
            lock (_pending)
            {
                _pending.InsertRange(0, keys);
            }

            throw;
        }

        Interlocked.Add(ref _pendingCount, -keys.Count);
        keys.ForEach(k => k.Dispose());
        SignalChange();
        if (Buffered <= BufferTarget / 2)
        {
            Wake();
        }
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

    // Keeps the in-memory buffer full from the store, so a request never waits for the database.
    private async Task PrefetchAsync()
    {
        var token = _stopping.Token;
        var lastCount = _time.GetTimestamp();
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RefillAsync(token);
                if (_time.GetElapsedTime(lastCount) >= RecountInterval)
                {
                    // Other nodes take keys from the same store: the count is refreshed, not only tracked.
                    var version = Interlocked.Read(ref _storedVersion);
                    var counted = await _store!.CountAsync(Algorithm, token);
                    lock (_storedLock)
                    {
                        if (_storedVersion == version)
                        {
                            Volatile.Write(ref _stored, counted);
                        }
                    }

                    SignalChange();

                    lastCount = _time.GetTimestamp();
                    if (Available < Capacity)
                    {
                        _generatorWake.Set();
                    }
                }

                await _prefetchWake.WaitAsync(RecountInterval, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                LogFillFailed(_logger, exception);
                await Task.Delay(RecountInterval, _time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task RefillAsync(CancellationToken cancellationToken)
    {
        while (Buffered < BufferTarget && !cancellationToken.IsCancellationRequested)
        {
            var want = BufferTarget - Buffered;

            // Keys generated but not yet stored go first: no round trip.
            lock (_pending)
            {
                var move = Math.Min(want, _pending.Count);
                for (var i = 0; i < move; i++)
                {
                    Enqueue(_pending[i]);
                }

                _pending.RemoveRange(0, move);
                Interlocked.Add(ref _pendingCount, -move);
                want -= move;
            }

            SignalChange();

            if (want <= 0 || Stored <= 0)
            {
                return;
            }

            var (taken, _) = await MoveStoredAsync(want, keepOne: false, cancellationToken);
            if (taken == 0)
            {
                return;
            }
        }
    }

    // Removes up to `count` keys from the store into the buffer (a key sealed under another passphrase
    // is discarded), keeping one out for the caller if asked; returns how many rows it took. While it
    // runs, requests that find the buffer empty wait for its keys instead of generating their own.
    private async Task<(int Taken, DeviceKey? Kept)> MoveStoredAsync(int count, bool keepOne, CancellationToken cancellationToken)
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
                LogUnusableKeys(_logger, unusable);
            }

            return (taken.Count, kept);
        }
        finally
        {
            Interlocked.Decrement(ref _storeTakesInFlight);
            SignalChange();
        }
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

    private void SignalChange() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void RecordGenerated()
    {
        Interlocked.Increment(ref _generated);
        lock (_generatedAt)
        {
            _generatedAt.Enqueue(_time.GetTimestamp());
            TrimRateWindow();
        }
    }

    private void TrimRateWindow()
    {
        while (_generatedAt.Count > 0 && _time.GetElapsedTime(_generatedAt.Peek()) > RateWindow)
        {
            _generatedAt.Dequeue();
        }
    }

    private void CreateInstruments(Meter meter)
    {
        var tags = new KeyValuePair<string, object?>("algorithm", _algorithmName);
        meter.CreateObservableGauge("fleetkey.key_pool.available", () => new Measurement<int>(Available, tags), "{key}", "Device keys ready to hand out (stored and in memory).");
        meter.CreateObservableGauge("fleetkey.key_pool.capacity", () => new Measurement<int>(Capacity, tags), "{key}", "How many device keys the pool keeps ready.");
        meter.CreateObservableGauge("fleetkey.key_pool.fill_rate", () => new Measurement<double>(FillRate, tags), "{key}/s", "Device keys generated per second by the pool over the last minute.");
        meter.CreateObservableCounter("fleetkey.key_pool.generated", () => new Measurement<long>(Generated, tags), "{key}", "Device keys generated by the pool in the background.");
        meter.CreateObservableCounter<long>(
            "fleetkey.key_pool.handed_out",
            () =>
            {
                var (pooled, generated) = HandedOut;
                return new Measurement<long>[]
                {
                    new(pooled, tags, new("source", "pool")),
                    new(generated, tags, new("source", "on_demand")),
                };
            },
            "{key}",
            "Device keys handed out: from the pool, or generated on demand because the pool was empty.");
    }

    private static void LowerThreadPriority()
    {
        // Thread.Priority is not applied on Linux; the thread's nice value is. 10, not 19: requests
        // still get ~90% of a core it competes for, and the pool still fills on a machine busy with
        // other processes.
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = NativeMethods.SetPriority(NativeMethods.PriorityProcess, NativeMethods.GetThreadId(), 10);
            }
            catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc (or too old): the idle check alone keeps the generator out of the way.
            }
        }
    }

    [LoggerMessage(EventId = 300, EventName = "KeyPoolFillFailed", Level = LogLevel.Warning, Message = "The device key pool could not be filled; retrying")]
    private static partial void LogFillFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 301, EventName = "KeyPoolKeysUnusable", Level = LogLevel.Warning, Message = "Discarded {Count} stored device keys that this node cannot open (sealed under another passphrase, or damaged)")]
    private static partial void LogUnusableKeys(ILogger logger, int count);

    private static partial class NativeMethods
    {
        public const int PriorityProcess = 0;

        [DllImport("libc", EntryPoint = "setpriority")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int SetPriority(int which, int who, int priority);

        [DllImport("libc", EntryPoint = "gettid")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int GetThreadId();
    }
}

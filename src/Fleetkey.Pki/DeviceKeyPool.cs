using System.Diagnostics.Metrics;
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
/// The generator (<see cref="DeviceKeyGenerator"/>) is one thread, so it never takes more than one
/// core, and runs at a low OS priority (nice 10), so a request that arrives mid-generation is
/// scheduled ahead of it. It makes a first tranche (<see cref="FirstTranche"/> keys, what the buffer
/// holds) whether or not requests are in flight, so that a client calling a fresh server back to back
/// finds keys ready; after that it starts a key only when the server is idle (no request in flight, as
/// the host reports it), and waits for the host's signal in between. When the pool is empty, requests
/// generate their key themselves, on every core; while the store holds keys, a request that finds the
/// buffer empty takes a batch from the store instead (see <see cref="TakeAsync"/>). How far the pool
/// has filled is logged per tenth (see
/// <see cref="DeviceKeyPoolProgress"/>).
/// </para>
/// <para>
/// This class hands keys out and runs the rest: where the keys are is <see cref="DeviceKeyStock"/>'s,
/// the buffer's top-up <see cref="DeviceKeyPrefetcher"/>'s, the counts and instruments
/// <see cref="DeviceKeyPoolMetrics"/>'.
/// </para>
/// </remarks>
public sealed class DeviceKeyPool : IDisposable
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

    /// <summary>How often the stored keys are counted again, and the longest the generator sleeps without a signal.</summary>
    internal static readonly TimeSpan RecountInterval = TimeSpan.FromSeconds(5);

    // A key generation cannot be interrupted, and at low priority on a busy machine it may take
    // seconds: stopping waits this long for it, and Dispose this long for the background work.
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(1);

    private readonly DeviceKeyStock _stock;
    private readonly DeviceKeyPoolMetrics _metrics;
    private readonly KeyGenerationTime _generationTime;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private DeviceKeyGenerator? _generator;
    private DeviceKeyPrefetcher? _prefetcher;
    private Task _generatorRun = Task.CompletedTask;
    private Task _prefetcherRun = Task.CompletedTask;
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
        AlgorithmName = PkiOptions.FormatAlgorithm(algorithm);
        FirstTrancheSize = Math.Min(firstTranche, capacity);
        _stock = new DeviceKeyStock(algorithm, capacity, store, bufferSize, passphrase);
        _time = time ?? TimeProvider.System;
        _metrics = new DeviceKeyPoolMetrics(_time);
        _generationTime = new KeyGenerationTime(algorithm);
        if (meter is not null)
        {
            _metrics.Publish(meter, AlgorithmName, capacity, () => Available);
        }
    }

    public KeyAlgorithm Algorithm => _stock.Algorithm;

    /// <summary>The algorithm as configured and stored ("rsa-2048", "ec-p256").</summary>
    public string AlgorithmName { get; }

    /// <summary>How many keys the pool keeps ready.</summary>
    public int Capacity => _stock.Capacity;

    /// <summary>How many keys the generator makes whether or not the server is idle (see <see cref="FirstTranche"/>).</summary>
    public int FirstTrancheSize { get; }

    /// <summary>How many keys the in-memory buffer holds when full.</summary>
    public int BufferTarget => _stock.BufferTarget;

    /// <summary>Whether keys wait in a store (and survive restarts), not only in memory.</summary>
    public bool Persistent => _stock.Persistent;

    /// <summary>Whether stored keys are encrypted (a passphrase is configured).</summary>
    public bool EncryptsAtRest => _stock.EncryptsAtRest;

    /// <summary>Keys ready in memory.</summary>
    public int Buffered => _stock.Buffered;

    /// <summary>Keys ready in the store, as last counted (other nodes may have taken some since).</summary>
    public int Stored => _stock.Stored;

    /// <summary>Keys ready: stored, buffered and generated but not yet stored.</summary>
    public int Available => _stock.Available;

    /// <summary>Keys the background generator made since start.</summary>
    public long Generated => _metrics.Generated;

    /// <summary>Keys handed out from the pool, and keys generated on demand because it was empty.</summary>
    public (long Pooled, long GeneratedOnDemand) HandedOut => _metrics.HandedOut;

    /// <summary>Keys per second the generator made over the last minute.</summary>
    public double FillRate => _metrics.FillRate;

    /// <summary>
    /// How long a request waits, at most, for keys on their way from the store before it generates its
    /// own: what a generation takes now (see <see cref="KeyGenerationTime"/>).
    /// </summary>
    public TimeSpan Patience => _generationTime.Current;

    /// <summary>
    /// A task that completes the next time keys arrive (generated, stored, moved into the buffer) or a
    /// store take ends. Take it before looking at the pool, so that a change in between is not missed.
    /// </summary>
    internal Task NextChange => _stock.NextChange;

    /// <summary>
    /// Counts the stored keys and, with a passphrase, deletes keys stored in the clear (written before a
    /// passphrase was configured: they sat unencrypted at rest). Returns how many it deleted.
    /// </summary>
    public Task<int> PrepareAsync(CancellationToken cancellationToken) => _stock.PrepareAsync(cancellationToken);

    /// <summary>Starts filling in the background.</summary>
    /// <param name="isIdle">Whether the server is idle; the generator starts a key only then. Null: always.</param>
    /// <param name="logger">Where the fill's progress and failures go.</param>
    /// <param name="whenIdle">
    /// A task that completes once the server is idle, which the generator waits on while the server is
    /// busy. Null: it asks <paramref name="isIdle"/> again when a key is taken, at the latest after
    /// <see cref="RecountInterval"/>.
    /// </param>
    public void Start(Func<bool>? isIdle = null, ILogger? logger = null, Func<CancellationToken, Task>? whenIdle = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Capacity == 0 || Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        logger ??= NullLogger.Instance;
        _stock.Logger = logger;
        var progress = new DeviceKeyPoolProgress(AlgorithmName, Capacity, Available, Generated, _time, logger);
        var prefetcher = Persistent ? new DeviceKeyPrefetcher(_stock, () => _generator?.Wake(), _time, logger) : null;
        _generator = new DeviceKeyGenerator(_stock, FirstTrancheSize, _metrics, progress, isIdle ?? (static () => true), whenIdle, Wake, logger);
        _prefetcher = prefetcher;
        _generatorRun = _generator.Start(_stopping.Token);
        _prefetcherRun = prefetcher?.Start(_stopping.Token) ?? Task.CompletedTask;
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

            if (!Persistent)
            {
                break;
            }

            key = _stock.TakePending();
            var tookFromStore = false;
            if (key is null && Stored > 0)
            {
                // The buffer is empty: one key for this request and the rest of a batch for the next ones.
                key = (await _stock.MoveStoredAsync(DirectTakeBatch, keepOne: true, cancellationToken)).Kept;
                tookFromStore = true;
            }

            if (key is not null)
            {
                _metrics.HandedOutFromPool();
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
            if (_stock.StoreTakesInFlight == 0 || !await WaitForChangeAsync(changed, started, patience, cancellationToken))
            {
                break;
            }
        }

        _metrics.GeneratedOnDemand();
        Wake();
        var generating = _time.GetTimestamp();
        var generated = DeviceKey.Generate(Algorithm);
        _generationTime.Record(_time.GetElapsedTime(generating));
        return generated;
    }

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
        _generator?.Wake();
        await _prefetcherRun.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // A key the generator finishes after this is discarded.
        await ((Task)Task.WhenAny(_generatorRun, Task.Delay(StopWait, _time, cancellationToken))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _stock.PutBackAsync(cancellationToken);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _generator?.Wake();

        // Bounded: a generation in progress, or a store call that outlasts its cancellation, is not
        // waited for past StopWait. What is still running keeps the signals it waits on.
        _ = Task.WhenAll(Settled(_generatorRun), Settled(_prefetcherRun)).Wait(StopWait);
        _stock.DisposeKeys();
        var generatorDone = _generatorRun.IsCompleted;
        var prefetcherDone = _prefetcherRun.IsCompleted;
        if (generatorDone)
        {
            _generator?.Dispose();
        }

        if (prefetcherDone)
        {
            _prefetcher?.Dispose();
        }

        if (generatorDone && prefetcherDone)
        {
            _stopping.Dispose();
        }
    }

    private static Task Settled(Task task) => task.ContinueWith(static _ => { }, TaskScheduler.Default);

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
        if (_stock.TryDequeue(out var left) is not { } key)
        {
            return null;
        }

        _metrics.HandedOutFromPool();
        if (left <= BufferTarget / 2)
        {
            Wake();
        }
        else
        {
            _generator?.Wake();
        }

        return key;
    }

    private void Wake()
    {
        _generator?.Wake();
        _prefetcher?.Wake();
    }
}

using Microsoft.Extensions.Logging;

namespace Fleetkey.Pki;

/// <summary>
/// The device key pool's generator: one background thread at a low OS priority that makes keys until
/// the pool holds its capacity, and writes them to the store in batches.
/// </summary>
/// <remarks>
/// One thread, so it never takes more than one core; nice 10, so a request that arrives mid-generation
/// is scheduled ahead of it. It makes the first tranche whether or not requests are in flight; after
/// that it starts a key only while the server is idle, and while the server is busy it waits: for the
/// host's signal that the server is idle, for a take to wake it, or for the stop. A host that gives no
/// idle signal is asked again at each wake, and at the latest after <see cref="DeviceKeyPool.RecountInterval"/>.
/// </remarks>
internal sealed class DeviceKeyGenerator : IDisposable
{
    // 10, not 19: requests still get ~90% of a core the generator competes for, and the pool still
    // fills on a machine busy with other processes.
    private const int Nice = 10;

    private readonly DeviceKeyStock _stock;
    private readonly int _firstTranche;
    private readonly DeviceKeyPoolMetrics _metrics;
    private readonly DeviceKeyPoolProgress _progress;
    private readonly Func<bool> _isIdle;
    private readonly Func<CancellationToken, Task>? _whenIdle;
    private readonly Action _refillBuffer;
    private readonly ILogger _logger;
    private readonly AutoResetEvent _wake = new(initialState: false);

    // Whether the pool has held the first tranche since start (a restart on a filled store has).
    private bool _trancheMade;

    // The host's idle signal while the server is busy: asked for once per busy spell, not once per wake.
    private Task? _idle;

    /// <param name="isIdle">Whether the server is idle; a key beyond the first tranche is started only then.</param>
    /// <param name="whenIdle">Completes once the server is idle; null: <paramref name="isIdle"/> is asked again at each wake.</param>
    /// <param name="refillBuffer">Wakes the prefetch once stored keys leave the buffer low.</param>
    public DeviceKeyGenerator(
        DeviceKeyStock stock,
        int firstTranche,
        DeviceKeyPoolMetrics metrics,
        DeviceKeyPoolProgress progress,
        Func<bool> isIdle,
        Func<CancellationToken, Task>? whenIdle,
        Action refillBuffer,
        ILogger logger)
    {
        _stock = stock;
        _firstTranche = firstTranche;
        _metrics = metrics;
        _progress = progress;
        _isIdle = isIdle;
        _whenIdle = whenIdle;
        _refillBuffer = refillBuffer;
        _logger = logger;
        _trancheMade = stock.Available >= firstTranche;
    }

    /// <summary>Starts the thread; the task completes when it ends (after <paramref name="stopping"/>).</summary>
    public Task Start(CancellationToken stopping)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A dedicated thread: key generation is CPU-bound and blocking, and at a low priority it
        // must not hold a thread-pool thread that requests need.
        var thread = new Thread(() =>
        {
            try
            {
                Run(stopping);
                done.SetResult();
            }
            catch (Exception exception)
            {
                done.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "Fleetkey key pool",
            Priority = ThreadPriority.Lowest,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Makes the generator look at the pool again (a key was taken, or the count changed).</summary>
    public void Wake() => _wake.Set();

    /// <summary>Only once the thread has ended: it waits on the wake signal.</summary>
    public void Dispose()
    {
        _wake.Dispose();
        if (_idle is { IsCompleted: true })
        {
            _idle.Dispose();
        }
    }

    private void Run(CancellationToken token)
    {
        LowPriorityThread.Lower(Nice);
        while (!token.IsCancellationRequested)
        {
            try
            {
                // The first tranche is made whether or not requests are in flight, so that a client
                // calling back to back from the start (never leaving the server idle) finds keys ready.
                var available = _stock.Available;
                _trancheMade |= available >= _firstTranche;
                if (available >= _stock.Capacity)
                {
                    Flush(token);
                    WaitHandle.WaitAny([_wake, token.WaitHandle], DeviceKeyPool.RecountInterval);
                    continue;
                }

                _progress.Observe(available, _metrics.Generated);
                if (_trancheMade && !_isIdle())
                {
                    // Requests first: what was made so far goes where they can get it, then wait.
                    Flush(token);
                    WaitUntilIdle(token);
                    continue;
                }

                var key = DeviceKey.Generate(_stock.Algorithm);
                if (token.IsCancellationRequested)
                {
                    key.Dispose();
                    return;
                }

                // Said before the key is in the pool: whoever sees it there sees the line about it too.
                _metrics.KeyGenerated();
                _progress.Adding(_stock.Available + 1, _metrics.Generated);
                if (_stock.AddGenerated(key) >= DeviceKeyPool.StoreBatch)
                {
                    Flush(token);
                }
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                DeviceKeyPoolLog.FillFailed(_logger, exception);
                token.WaitHandle.WaitOne(DeviceKeyPool.RecountInterval);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // While the server is busy: until the host says it is idle, a take wakes the generator, or the stop.
    private void WaitUntilIdle(CancellationToken token)
    {
        if (_whenIdle is null)
        {
            WaitHandle.WaitAny([_wake, token.WaitHandle], DeviceKeyPool.RecountInterval);
            return;
        }

        if (_idle is null || _idle.IsCompleted)
        {
            _idle?.Dispose();
            _idle = _whenIdle(token);
        }

        WaitHandle.WaitAny([_wake, token.WaitHandle, ((IAsyncResult)_idle).AsyncWaitHandle], DeviceKeyPool.RecountInterval);
    }

    // Writes the generated keys to the store (on the generator thread; blocking is fine there).
    private void Flush(CancellationToken token)
    {
        if (_stock.FlushPendingAsync(token).GetAwaiter().GetResult() && _stock.Buffered <= _stock.BufferTarget / 2)
        {
            _refillBuffer();
        }
    }
}

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
/// <param name="isIdle">Whether the server is idle; a key beyond the first tranche is started only then.</param>
/// <param name="whenIdle">Completes once the server is idle; null: <paramref name="isIdle"/> is asked again at each wake.</param>
/// <param name="refillBuffer">Wakes the prefetch once stored keys leave the buffer low.</param>
internal sealed class DeviceKeyGenerator(
    DeviceKeyStock stock,
    int firstTranche,
    DeviceKeyPoolMetrics metrics,
    DeviceKeyPoolProgress progress,
    Func<bool> isIdle,
    Func<CancellationToken, Task>? whenIdle,
    Action refillBuffer,
    ILogger logger) : IDisposable
{
    // 10, not 19: requests still get ~90% of a core the generator competes for, and the pool still
    // fills on a machine busy with other processes.
    private const int Nice = 10;

    private readonly AutoResetEvent _wake = new(initialState: false);

    // Whether the pool has held the first tranche since start (a restart on a filled store has): first
    // decided at the start, before the prefetch moves any stored key.
    private bool _trancheMade;

    // The host's idle signal while the server is busy: asked for once per busy spell, not once per wake.
    private Task? _idle;

    /// <summary>Starts the thread; the task completes when it ends (after <paramref name="stopping"/>).</summary>
    public Task Start(CancellationToken stopping)
    {
        _trancheMade = stock.Available >= firstTranche;
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
                var available = stock.Available;
                _trancheMade |= available >= firstTranche;
                if (available >= stock.Capacity)
                {
                    Flush(token);
                    WaitHandle.WaitAny([_wake, token.WaitHandle], DeviceKeyPool.RecountInterval);
                    continue;
                }

                progress.Observe(available, metrics.Generated);
                if (_trancheMade && !isIdle())
                {
                    // Requests first: what was made so far goes where they can get it, then wait.
                    Flush(token);
                    WaitUntilIdle(token);
                    continue;
                }

                var key = DeviceKey.Generate(stock.Algorithm);
                if (token.IsCancellationRequested)
                {
                    key.Dispose();
                    return;
                }

                // Said before the key is in the pool: whoever sees it there sees the line about it too.
                metrics.KeyGenerated();
                progress.Adding(stock.Available + 1, metrics.Generated);
                if (stock.AddGenerated(key) >= DeviceKeyPool.StoreBatch)
                {
                    Flush(token);
                }
            }
            catch (Exception exception) when (!token.IsCancellationRequested)
            {
                DeviceKeyPoolLog.FillFailed(logger, exception);
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
        if (whenIdle is null)
        {
            WaitHandle.WaitAny([_wake, token.WaitHandle], DeviceKeyPool.RecountInterval);
            return;
        }

        if (_idle is null || _idle.IsCompleted)
        {
            _idle?.Dispose();
            _idle = whenIdle(token);
        }

        WaitHandle.WaitAny([_wake, token.WaitHandle, ((IAsyncResult)_idle).AsyncWaitHandle], DeviceKeyPool.RecountInterval);
    }

    // Writes the generated keys to the store (on the generator thread; blocking is fine there).
    private void Flush(CancellationToken token)
    {
        if (stock.FlushPendingAsync(token).GetAwaiter().GetResult() && stock.Buffered <= stock.BufferTarget / 2)
        {
            refillBuffer();
        }
    }
}

using Microsoft.Extensions.Logging;

namespace Fleetkey.Pki;

/// <summary>
/// Keeps a persistent pool's memory buffer full, so a request rarely waits for the database: first
/// from the keys generated but not yet stored, then from the store. It recounts the stored keys every
/// <see cref="DeviceKeyPool.RecountInterval"/> (other nodes take from the same store) and wakes the
/// generator when the pool has fallen short.
/// </summary>
internal sealed class DeviceKeyPrefetcher(DeviceKeyStock stock, Action wakeGenerator, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Starts the loop; the task completes when it ends (after <paramref name="stopping"/>).</summary>
    public Task Start(CancellationToken stopping) => Task.Run(() => RunAsync(stopping), CancellationToken.None);

    /// <summary>Makes the prefetch look at the buffer now rather than at the next recount.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another take woke it at the same moment.
            }
        }
    }

    /// <summary>Only once the loop has ended: it waits on the wake signal.</summary>
    public void Dispose() => _wake.Dispose();

    private async Task RunAsync(CancellationToken token)
    {
        var lastCount = time.GetTimestamp();
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RefillAsync(token);
                if (time.GetElapsedTime(lastCount) >= DeviceKeyPool.RecountInterval)
                {
                    // Other nodes take keys from the same store: the count is refreshed, not only tracked.
                    await stock.RecountAsync(token);
                    lastCount = time.GetTimestamp();
                    if (stock.Available < stock.Capacity)
                    {
                        wakeGenerator();
                    }
                }

                await _wake.WaitAsync(DeviceKeyPool.RecountInterval, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                DeviceKeyPoolLog.FillFailed(logger, exception);
                await Task.Delay(DeviceKeyPool.RecountInterval, time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task RefillAsync(CancellationToken cancellationToken)
    {
        while (stock.Buffered < stock.BufferTarget && !cancellationToken.IsCancellationRequested)
        {
            // Keys generated but not yet stored go first: no round trip.
            var want = stock.BufferTarget - stock.Buffered;
            want -= stock.MovePendingToBuffer(want);
            if (want <= 0 || stock.Stored <= 0)
            {
                return;
            }

            var (taken, _) = await stock.MoveStoredAsync(want, keepOne: false, cancellationToken);
            if (taken == 0)
            {
                return;
            }
        }
    }
}

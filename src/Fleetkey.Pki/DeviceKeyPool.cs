using System.Security.Cryptography;
using System.Threading.Channels;

namespace Fleetkey.Pki;

/// <summary>
/// Device keys generated ahead of demand. An RSA-2048 key takes tens of milliseconds to generate,
/// more than the rest of CreateKeysAndCertificate together, so one background thread keeps a bounded
/// channel full and a request only pays for generation when a burst has drained it.
/// </summary>
internal sealed class DeviceKeyPool : IDisposable
{
    private readonly KeyAlgorithm _algorithm;
    private readonly Channel<AsymmetricAlgorithm>? _channel;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _generator = Task.CompletedTask;
    private int _disposed;

    public DeviceKeyPool(KeyAlgorithm algorithm, int capacity)
    {
        _algorithm = algorithm;
        if (capacity <= 0)
        {
            return;
        }

        _channel = Channel.CreateBounded<AsymmetricAlgorithm>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        // A dedicated thread: key generation is CPU-bound and blocking, and would otherwise hold a
        // thread-pool thread for its whole duration.
        _generator = Task.Factory.StartNew(Fill, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>A fresh key, from the pool when one is ready, else generated now. The caller owns it.</summary>
    public AsymmetricAlgorithm Take()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _channel is not null && _channel.Reader.TryRead(out var key) ? key : Keys.Generate(_algorithm);
    }

    /// <summary>How many keys are waiting (for tests and metrics).</summary>
    public int Available => _channel?.Reader.Count ?? 0;

    private void Fill()
    {
        var writer = _channel!.Writer;
        var token = _stopping.Token;
        AsymmetricAlgorithm? pending = null;
        try
        {
            while (!token.IsCancellationRequested)
            {
                pending = Keys.Generate(_algorithm);
                while (!writer.TryWrite(pending))
                {
                    // Blocking is fine: this thread exists only to fill the pool.
                    if (!writer.WaitToWriteAsync(token).AsTask().GetAwaiter().GetResult())
                    {
                        return;
                    }
                }

                pending = null;
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed while waiting for room.
        }
        finally
        {
            pending?.Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        if (_channel is not null)
        {
            _channel.Writer.TryComplete();

            // At most one key generation to wait for.
            _generator.Wait();
            while (_channel.Reader.TryRead(out var key))
            {
                key.Dispose();
            }
        }

        _stopping.Dispose();
    }
}

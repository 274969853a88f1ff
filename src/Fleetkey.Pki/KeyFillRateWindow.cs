namespace Fleetkey.Pki;

/// <summary>
/// Keys the pool's generator made per second over the last minute: the time of each generation in
/// that window, the older ones dropped as they fall out of it.
/// </summary>
internal sealed class KeyFillRateWindow(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Queue<long> _generatedAt = new();
    private readonly Lock _lock = new();

    public double PerSecond
    {
        get
        {
            lock (_lock)
            {
                Trim();
                return _generatedAt.Count / Window.TotalSeconds;
            }
        }
    }

    public void Record()
    {
        lock (_lock)
        {
            _generatedAt.Enqueue(time.GetTimestamp());
            Trim();
        }
    }

    private void Trim()
    {
        while (_generatedAt.Count > 0 && time.GetElapsedTime(_generatedAt.Peek()) > Window)
        {
            _generatedAt.Dequeue();
        }
    }
}

using System.Diagnostics.Metrics;

namespace Fleetkey.Services.Telemetry;

/// <summary>
/// Requests in flight, so that background work (the device key pool) runs only while the server is
/// idle. The API counts every request in and out; counting costs two interlocked operations.
/// </summary>
public sealed class ServerActivity
{
    /// <summary>The name of Fleetkey's meter (System.Diagnostics.Metrics), for dotnet-counters and exporters.</summary>
    public const string MeterName = "Fleetkey";

    /// <summary>How long after the last request the server counts as idle: clients keep a burst going with gaps shorter than this.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time;
    private int _inFlight;
    private long _lastEnded;

    // Completed when the last request in flight ends, for a WhenIdleAsync waiting on it; null while none waits.
    private TaskCompletionSource? _drained;

    public ServerActivity(TimeProvider time, Meter? meter = null)
    {
        _time = time;
        _lastEnded = time.GetTimestamp();
        meter?.CreateObservableUpDownCounter("fleetkey.requests.in_flight", () => InFlight, "{request}", "Requests being served.");
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    public void RequestEnded()
    {
        Volatile.Write(ref _lastEnded, _time.GetTimestamp());
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _drained) is { } drained)
        {
            Interlocked.CompareExchange(ref _drained, null, drained);
            drained.TrySetResult();
        }
    }

    /// <summary>No request in flight, and none ended within <see cref="Quiet"/>.</summary>
    public bool IsIdle() => InFlight == 0 && _time.GetElapsedTime(Volatile.Read(ref _lastEnded)) >= Quiet;

    /// <summary>
    /// Completes once the server is idle (<see cref="IsIdle"/>): at once when it is, else when the last
    /// request in flight has ended and <see cref="Quiet"/> has passed since. Background work waits on
    /// it instead of asking <see cref="IsIdle"/> over and over.
    /// </summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Taken before the count is read, so that the last request ending in between completes it.
            var drained = Drained();
            if (InFlight > 0)
            {
                await drained.Task.WaitAsync(cancellationToken);
                continue;
            }

            var quietLeft = Quiet - _time.GetElapsedTime(Volatile.Read(ref _lastEnded));
            if (quietLeft <= TimeSpan.Zero)
            {
                return;
            }

            var quiet = Task.Delay(quietLeft, _time, cancellationToken);

            // The clock may have moved between reading it and arming the timer (a test's fake clock can).
            if (IsIdle())
            {
                return;
            }

            await quiet;
        }
    }

    private TaskCompletionSource Drained()
    {
        var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref _drained, fresh, null) ?? fresh;
    }
}

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
        Interlocked.Decrement(ref _inFlight);
    }

    /// <summary>No request in flight, and none ended within <see cref="Quiet"/>.</summary>
    public bool IsIdle() => InFlight == 0 && _time.GetElapsedTime(Volatile.Read(ref _lastEnded)) >= Quiet;
}

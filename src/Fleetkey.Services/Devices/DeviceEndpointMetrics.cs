using System.Diagnostics.Metrics;

namespace Fleetkey.Services.Devices;

/// <summary>
/// The device endpoint's instrument on Fleetkey's meter: every attempt by its outcome (the words of
/// <see cref="DeviceAttemptOutcome"/>), and for throttled ones which rate stopped it. Without a meter
/// (tests, tools) nothing is recorded.
/// </summary>
public sealed class DeviceEndpointMetrics
{
    private readonly Counter<long>? _attempts;

    public DeviceEndpointMetrics(Meter? meter = null)
    {
        _attempts = meter?.CreateCounter<long>(
            "fleetkey.device.attempts",
            "{attempt}",
            "Requests to the device endpoint (POST /device/register), by outcome (registered or why refused) and, for throttled ones, the rate that stopped them (address or serial).");
    }

    public void Attempted(string outcome) => _attempts?.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="limit"><c>address</c> or <c>serial</c>.</param>
    public void Throttled(string limit) =>
        _attempts?.Add(1, new KeyValuePair<string, object?>("outcome", DeviceAttemptOutcome.Throttled), new KeyValuePair<string, object?>("limit", limit));
}

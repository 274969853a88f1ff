using System.Collections.Concurrent;
using Fleetkey.Services.Security;
using Fleetkey.Storage;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Records when a certificate the device endpoint issued first connects to the broker (the broker
/// tells every observer of every successful connect): from then on a lost-answer re-registration no
/// longer replaces that certificate (it is in use). Only the first connect of a certificate writes.
/// </summary>
internal sealed class FirstConnectionRecorder(IFleetStore store, TimeProvider time) : IDeviceConnectionObserver
{
    private const int MaxRecordedConnections = 100_000;

    // Certificates whose first connection is recorded (or that the endpoint did not issue): the broker
    // calls on every connect, and only the first one of a certificate needs a write.
    private readonly ConcurrentDictionary<string, byte> _connectionsRecorded = new(StringComparer.Ordinal);

    public ValueTask DeviceConnectedAsync(DeviceConnection connection, CancellationToken cancellationToken) =>
        new(RecordConnectionAsync(connection.CertificateId, cancellationToken));

    /// <summary>Sets the certificate's first connection time unless it is set, or the endpoint did not issue it.</summary>
    public async Task RecordConnectionAsync(string certificateId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificateId);
        if (_connectionsRecorded.ContainsKey(certificateId))
        {
            return;
        }

        var registered = await store.ReadAsync((session, ct) => session.DeviceEndpoint.GetRegistrationAsync(certificateId, ct), cancellationToken);
        if (registered is { FirstConnectedAt: null })
        {
            var at = time.GetUtcNow();
            await store.WriteAsync((session, ct) => session.DeviceEndpoint.RecordConnectionAsync(certificateId, at, ct), cancellationToken);
        }

        if (_connectionsRecorded.Count >= MaxRecordedConnections)
        {
            _connectionsRecorded.Clear();
        }

        _connectionsRecorded.TryAdd(certificateId, 0);
    }
}

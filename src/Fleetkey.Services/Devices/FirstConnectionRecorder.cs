using Fleetkey.Services.Security;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Tells the device endpoint when a certificate it issued first connects to the broker: from then on
/// a lost-answer re-registration no longer replaces that certificate (it is in use).
/// </summary>
internal sealed class FirstConnectionRecorder(DeviceRegistrationService registrations) : IDeviceConnectionObserver
{
    public ValueTask DeviceConnectedAsync(DeviceConnection connection, CancellationToken cancellationToken) =>
        new(registrations.RecordConnectionAsync(connection.CertificateId, cancellationToken));
}

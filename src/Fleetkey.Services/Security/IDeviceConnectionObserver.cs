namespace Fleetkey.Services.Security;

/// <summary>A device that has just connected: authenticated by its certificate and authorized to connect.</summary>
/// <param name="ThingName">The thing the connection stands for, when the certificate is attached to one.</param>
public sealed record DeviceConnection(string CertificateId, string ClientId, string? ThingName, DateTimeOffset ConnectedAt);

/// <summary>
/// Told of every successful device connection (MQTT CONNECT accepted), for example to record a
/// certificate's first connection. Called after the CONNACK, never in the way of the device; an
/// exception is logged and otherwise ignored. Register any number as singletons.
/// </summary>
public interface IDeviceConnectionObserver
{
    ValueTask DeviceConnectedAsync(DeviceConnection connection, CancellationToken cancellationToken);
}

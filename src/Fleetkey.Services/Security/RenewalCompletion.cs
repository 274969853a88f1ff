namespace Fleetkey.Services.Security;

/// <summary>
/// Tells the renewal service of every device connection: the first connection of a renewed certificate
/// retires the one it replaced. Only connections of certificates with a pending renewal write.
/// </summary>
internal sealed class RenewalCompletion(CertificateRenewalService renewals) : IDeviceConnectionObserver
{
    public ValueTask DeviceConnectedAsync(DeviceConnection connection, CancellationToken cancellationToken) =>
        new(renewals.CompleteAsync(connection.CertificateId, cancellationToken));
}

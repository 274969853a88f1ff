using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Mqtt;

/// <summary>
/// Tells the application's <see cref="IDeviceConnectionObserver"/>s (the device endpoint records a
/// device's first connection) of each accepted connection, in the background: an observer's store
/// write never holds up MQTTnet's connect event. A failing observer is logged and the others still run.
/// </summary>
internal sealed class ConnectionObservers(IEnumerable<IDeviceConnectionObserver> observers, BrokerTasks tasks, ILogger<MqttBroker> logger)
{
    private readonly IDeviceConnectionObserver[] _observers = [.. observers];

    public void Notify(DeviceSession session)
    {
        if (_observers.Length == 0)
        {
            return;
        }

        var connection = new DeviceConnection(session.CertificateId, session.ClientId, session.ThingName, session.ConnectedAt);
        tasks.Run(cancellationToken => NotifyAsync(connection, cancellationToken));
    }

    private async Task NotifyAsync(DeviceConnection connection, CancellationToken cancellationToken)
    {
        foreach (var observer in _observers)
        {
            try
            {
                await observer.DeviceConnectedAsync(connection, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                BrokerLog.ObserverFailed(logger, exception, observer.GetType().Name, connection.ClientId);
            }
        }
    }
}

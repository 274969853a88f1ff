using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// A device connection's start and end as the broker follows them: the session is registered in
/// <see cref="DeviceSessions"/> and counted, AWS IoT's lifecycle events are published on
/// <c>$aws/events/presence/connected|disconnected/&lt;clientId&gt;</c> (<see cref="PresenceEvents"/>), and the
/// connection observers are told of a new connection.
/// </summary>
internal sealed class SessionLifecycle(
    DeviceSessions sessions,
    AuthorizationCache authorizations,
    BrokerServer server,
    ConnectionObservers observers,
    BrokerMetrics metrics,
    TimeProvider time,
    ILogger<MqttBroker> logger)
{
    public async Task ConnectedAsync(ClientConnectedEventArgs args)
    {
        if (DeviceSessions.From(args.SessionItems) is not { } session)
        {
            return;
        }

        sessions.Add(session);
        metrics.Connected();
        BrokerLog.Connected(logger, session.ClientId, session.CertificateId);
        if (MqttInputRules.HasLifecycleEvents(session.ClientId))
        {
            await server.PublishAsync(PresenceEvents.ConnectedTopic(session.ClientId), PresenceEvents.Connected(session, time.GetUtcNow()));
        }

        observers.Notify(session);
    }

    public async Task DisconnectedAsync(ClientDisconnectedEventArgs args)
    {
        if (DeviceSessions.From(args.SessionItems) is not { } session)
        {
            return;
        }

        // A takeover's new connection may already be registered under the same client id: remove only this one.
        if (sessions.Remove(session))
        {
            authorizations.Forget(session.CertificateId, session.ClientId);
        }

        metrics.Disconnected();
        var (clientInitiated, reason) = args.DisconnectType switch
        {
            MqttClientDisconnectType.Clean => (true, "CLIENT_INITIATED_DISCONNECT"),
            MqttClientDisconnectType.Takeover => (false, "DUPLICATE_CLIENTID"),
            _ when session.State.Violation is not null => (false, "CLIENT_ERROR"),
            _ when args.ReasonCode == MqttDisconnectReasonCode.NotAuthorized => (false, "AUTHORIZATION_FAILURE"),
            _ => (false, "CONNECTION_LOST"),
        };
        BrokerLog.Disconnected(logger, session.ClientId, reason);

        // As on AWS IoT, a client id with + or # gets no lifecycle events: their topic would be a filter.
        if (MqttInputRules.HasLifecycleEvents(session.ClientId))
        {
            await server.PublishAsync(PresenceEvents.DisconnectedTopic(session.ClientId), PresenceEvents.Disconnected(session, time.GetUtcNow(), clientInitiated, reason));
        }
    }
}

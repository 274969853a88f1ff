using System.Net;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Mqtt;

/// <summary>
/// What the broker logs, in one place with its event ids. The parts the broker is made of (its server
/// and TLS listener, the CONNECT check, the session lifecycle, policy enforcement, the revocation
/// monitor) log under the broker's category, <c>Fleetkey.Mqtt.MqttBroker</c>, as they did when they were
/// one class: log filters keep working.
/// </summary>
internal static partial class BrokerLog
{
    [LoggerMessage(EventId = 8000, EventName = "MqttStarted", Level = LogLevel.Information, Message = "MQTT broker listening on {Address} port {Port} (TLS, client certificates required) for {PublicHost}")]
    public static partial void Started(ILogger logger, IPAddress address, int port, string publicHost);

    [LoggerMessage(EventId = 8002, EventName = "MqttConnectRefused", Level = LogLevel.Information, Message = "MQTT connect of {ClientId} with certificate {CertificateId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string clientId, string certificateId, string reason);

    [LoggerMessage(EventId = 8003, EventName = "MqttConnected", Level = LogLevel.Debug, Message = "MQTT client {ClientId} connected with certificate {CertificateId}")]
    public static partial void Connected(ILogger logger, string clientId, string certificateId);

    [LoggerMessage(EventId = 8004, EventName = "MqttDisconnected", Level = LogLevel.Debug, Message = "MQTT client {ClientId} disconnected: {Reason}")]
    public static partial void Disconnected(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 8005, EventName = "MqttDenied", Level = LogLevel.Information, Message = "MQTT client {ClientId}: {Action} on {Resource} denied by policy")]
    public static partial void Denied(ILogger logger, string clientId, string action, string resource);

    [LoggerMessage(EventId = 8006, EventName = "MqttRevoked", Level = LogLevel.Information, Message = "MQTT client {ClientId} disconnected: certificate {CertificateId} is {Status} or may no longer connect")]
    public static partial void Revoked(ILogger logger, string clientId, string certificateId, string status);

    [LoggerMessage(EventId = 8007, EventName = "MqttAuthorizationFailed", Level = LogLevel.Error, Message = "MQTT client {ClientId}: reading its authorization failed")]
    public static partial void AuthorizationFailed(ILogger logger, Exception exception, string clientId);

    [LoggerMessage(EventId = 8008, EventName = "MqttWatchFailed", Level = LogLevel.Error, Message = "MQTT revocation check failed; retrying at the next tick")]
    public static partial void WatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8009, EventName = "MqttObserverFailed", Level = LogLevel.Error, Message = "Connection observer {Observer} failed for {ClientId}")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, string clientId);

    [LoggerMessage(EventId = 8012, EventName = "MqttRetainedQuota", Level = LogLevel.Information, Message = "MQTT client {ClientId}: retained message on {Topic} refused, the node's retained-message quota is full")]
    public static partial void RetainedQuota(ILogger logger, string clientId, string topic);

    [LoggerMessage(EventId = 8013, EventName = "MqttRevocationDisconnectSlow", Level = LogLevel.Warning, Message = "MQTT client {ClientId}: closing its revoked connection takes longer than {Timeout}; trying again at the next tick")]
    public static partial void RevocationDisconnectSlow(ILogger logger, string clientId, TimeSpan timeout);
}

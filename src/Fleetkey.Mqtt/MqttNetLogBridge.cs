using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Exceptions;

namespace Fleetkey.Mqtt;

/// <summary>MQTTnet's warnings and errors (a failed TLS handshake, a broken packet) into Fleetkey's log.</summary>
internal sealed partial class MqttNetLogBridge(ILogger<MqttNetLogBridge> logger) : IMqttNetLogger
{
    public bool IsEnabled => logger.IsEnabled(LogLevel.Warning);

    public void Publish(MqttNetLogLevel logLevel, string source, string message, object[] parameters, Exception? exception)
    {
        if (logLevel < MqttNetLogLevel.Warning)
        {
            return;
        }

        var text = parameters is { Length: > 0 } ? string.Format(CultureInfo.InvariantCulture, message, parameters) : message;
        if (IsClientsFault(exception) || (exception is null && IsAboutAClient(message)))
        {
            // A client that fails the TLS handshake (an untrusted certificate) or drops the connection:
            // the client's problem, not the server's.
            var reason = exception?.GetBaseException().Message ?? text;
            LogClientFailure(logger, source, reason);
        }
        else if (logLevel == MqttNetLogLevel.Error)
        {
            LogError(logger, exception, source, text);
        }
        else
        {
            LogWarning(logger, exception, source, text);
        }
    }

    // A broken TLS session, a dropped connection, bytes that are not MQTT: what a client (or an attacker)
    // does, not a fault of the server's.
    private static bool IsClientsFault(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException or IOException or SocketException or MqttProtocolViolationException or MqttCommunicationException)
            {
                return true;
            }
        }

        return false;
    }

    // MQTTnet's warnings about one client's conduct, which the broker's frame guard already counted
    // (a first packet that is not CONNECT, no CONNECT in time): at warning level an attacker writes the log.
    private static bool IsAboutAClient(string message) =>
        message.Contains("CONNECT", StringComparison.Ordinal) && message.StartsWith("Client '", StringComparison.Ordinal);

    [LoggerMessage(EventId = 8022, EventName = "MqttClientConnectionFailed", Level = LogLevel.Information, Message = "MQTTnet {Source}: client connection failed: {Reason}")]
    private static partial void LogClientFailure(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 8020, EventName = "MqttNetWarning", Level = LogLevel.Warning, Message = "MQTTnet {Source}: {Message}")]
    private static partial void LogWarning(ILogger logger, Exception? exception, string source, string message);

    [LoggerMessage(EventId = 8021, EventName = "MqttNetError", Level = LogLevel.Error, Message = "MQTTnet {Source}: {Message}")]
    private static partial void LogError(ILogger logger, Exception? exception, string source, string message);
}

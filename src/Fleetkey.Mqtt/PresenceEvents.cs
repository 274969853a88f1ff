using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fleetkey.Mqtt;

/// <summary>
/// AWS IoT lifecycle events on <c>$aws/events/presence/connected|disconnected/&lt;clientId&gt;</c>, in AWS's
/// payload shape (clientId, timestamp in epoch milliseconds, eventType, sessionIdentifier,
/// principalIdentifier, ipAddress, versionNumber; and for disconnects clientInitiatedDisconnect and
/// disconnectReason).
/// </summary>
internal static class PresenceEvents
{
    public static string ConnectedTopic(string clientId) => "$aws/events/presence/connected/" + clientId;

    public static string DisconnectedTopic(string clientId) => "$aws/events/presence/disconnected/" + clientId;

    public static byte[] Connected(DeviceSession session, DateTimeOffset at) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new PresenceEvent(session.ClientId, at.ToUnixTimeMilliseconds(), "connected", session.SessionIdentifier, session.CertificateId, session.IpAddress, 0, null, null),
            PresenceJsonContext.Default.PresenceEvent);

    public static byte[] Disconnected(DeviceSession session, DateTimeOffset at, bool clientInitiated, string reason) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new PresenceEvent(session.ClientId, at.ToUnixTimeMilliseconds(), "disconnected", session.SessionIdentifier, session.CertificateId, session.IpAddress, 0, clientInitiated, reason),
            PresenceJsonContext.Default.PresenceEvent);
}

internal sealed record PresenceEvent(
    [property: JsonPropertyName("clientId")] string ClientId,
    [property: JsonPropertyName("timestamp")] long Timestamp,
    [property: JsonPropertyName("eventType")] string EventType,
    [property: JsonPropertyName("sessionIdentifier")] string SessionIdentifier,
    [property: JsonPropertyName("principalIdentifier")] string PrincipalIdentifier,
    [property: JsonPropertyName("ipAddress")] string? IpAddress,
    [property: JsonPropertyName("versionNumber")] long VersionNumber,
    [property: JsonPropertyName("clientInitiatedDisconnect")] bool? ClientInitiatedDisconnect,
    [property: JsonPropertyName("disconnectReason")] string? DisconnectReason);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PresenceEvent))]
internal sealed partial class PresenceJsonContext : JsonSerializerContext;

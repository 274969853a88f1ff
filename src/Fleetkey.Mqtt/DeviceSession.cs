using MQTTnet.Formatter;

namespace Fleetkey.Mqtt;

/// <summary>
/// One authenticated device connection: who it is (certificate id, client id), how it speaks, and the
/// connection's own state (<see cref="MqttConnectionState"/>: its subscriptions, a rule it broke).
/// </summary>
internal sealed record DeviceSession(
    string ClientId,
    string CertificateId,
    string? ThingName,
    MqttProtocolVersion ProtocolVersion,
    string SessionIdentifier,
    string? IpAddress,
    DateTimeOffset ConnectedAt,
    MqttConnectionState State)
{
    public bool IsMqtt5 => ProtocolVersion == MqttProtocolVersion.V500;
}

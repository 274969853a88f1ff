using MQTTnet.Formatter;

namespace Fleetkey.Mqtt;

/// <summary>One authenticated device connection: who it is (certificate id, client id) and how it speaks.</summary>
internal sealed record DeviceSession(
    string ClientId, string CertificateId, string? ThingName, MqttProtocolVersion ProtocolVersion, string SessionIdentifier, string? IpAddress, DateTimeOffset ConnectedAt)
{
    public bool IsMqtt5 => ProtocolVersion == MqttProtocolVersion.V500;
}

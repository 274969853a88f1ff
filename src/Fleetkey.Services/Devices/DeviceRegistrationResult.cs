namespace Fleetkey.Services.Devices;

/// <summary>A registered device's answer. <see cref="PrivateKeyPem"/> is null in CSR mode (the key never left the device).</summary>
public sealed record DeviceRegistrationResult(
    string ThingName,
    string CertificateId,
    string CertificateArn,
    string CertificatePem,
    string? PrivateKeyPem,
    string CaCertificatesPem,
    string MqttHost,
    int MqttPort);

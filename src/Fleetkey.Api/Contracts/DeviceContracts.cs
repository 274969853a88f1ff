using System.Text.Json.Serialization;

namespace Fleetkey.Api.Contracts;

/// <summary>The answer of <c>POST /device/register</c>; <c>privateKey</c> is absent in CSR mode.</summary>
internal sealed record DeviceRegisterResponse(
    [property: JsonPropertyName("thingName")] string ThingName,
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("certificateArn")] string CertificateArn,
    [property: JsonPropertyName("certificatePem")] string CertificatePem,
    [property: JsonPropertyName("privateKey")] string? PrivateKey,
    [property: JsonPropertyName("caCertificatesPem")] string CaCertificatesPem,
    [property: JsonPropertyName("mqtt")] DeviceMqttEndpoint Mqtt);

internal sealed record DeviceMqttEndpoint(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("port")] int Port);

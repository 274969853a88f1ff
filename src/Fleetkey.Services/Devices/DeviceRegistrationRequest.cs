namespace Fleetkey.Services.Devices;

/// <summary>What a device sent to <c>POST /device/register</c>, once the body parsed.</summary>
public sealed record DeviceRegistrationRequest(string SerialNumber, string? Csr, IReadOnlyDictionary<string, string>? Parameters);

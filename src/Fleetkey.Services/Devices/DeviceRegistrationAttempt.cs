namespace Fleetkey.Services.Devices;

/// <summary>
/// One request as the adapter received it: the source address, the Authorization header, and the
/// body parsed (<see cref="Request"/>) or why it did not parse (<see cref="RequestError"/>, with the
/// serial number when it could be read).
/// </summary>
public sealed record DeviceRegistrationAttempt(
    string SourceAddress,
    string? Authorization,
    DeviceRegistrationRequest? Request,
    string? RequestError,
    string? ClaimedSerialNumber = null);

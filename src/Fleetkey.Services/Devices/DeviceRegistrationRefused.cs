using Fleetkey.Core.Errors;

namespace Fleetkey.Services.Devices;

/// <summary>
/// A registration the device endpoint refuses: the error to answer, the outcome word for the audit
/// log (<see cref="DeviceAttemptOutcome"/>) and the reason it keeps there. Thrown from any step of a
/// registration and caught once, by <see cref="DeviceRegistrationService"/>, which audits and answers it.
/// </summary>
internal sealed class DeviceRegistrationRefused(ServiceException error, string outcome, string reason) : Exception(error.Message)
{
    public ServiceException Error { get; } = error;

    public string Outcome { get; } = outcome;

    public string Reason { get; } = reason;

    /// <summary>The one answer for every authentication failure (<see cref="DeviceRegistrationService.UnauthorizedMessage"/>); only the audit says which.</summary>
    public static DeviceRegistrationRefused Unauthorized(string reason) =>
        new(new ServiceException(ErrorCode.Unauthorized, DeviceRegistrationService.UnauthorizedMessage), DeviceAttemptOutcome.Unauthorized, reason);

    public static DeviceRegistrationRefused Refuse(ErrorCode code, string message, string outcome, string reason) =>
        new(new ServiceException(code, message), outcome, reason);

    public static DeviceRegistrationRefused Refuse(ServiceException error, string outcome, string reason) =>
        new(error, outcome, reason + ": " + error.Message);
}

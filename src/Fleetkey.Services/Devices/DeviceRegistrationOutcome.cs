using Fleetkey.Core.Errors;

namespace Fleetkey.Services.Devices;

/// <summary>Either the registration or the error to answer (with Retry-After for 429).</summary>
public sealed record DeviceRegistrationOutcome(DeviceRegistrationResult? Registered, ServiceException? Error, TimeSpan? RetryAfter)
{
    public static DeviceRegistrationOutcome Failed(ServiceException error, TimeSpan? retryAfter = null) => new(null, error, retryAfter);
}

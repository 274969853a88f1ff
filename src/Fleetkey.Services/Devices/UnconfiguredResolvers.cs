using Fleetkey.Services.Provisioning;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Stand-ins registered only when the host registers no enrollment store: no serial is enrolled, so
/// every device is refused (401), never let in. The enrollment and template services replace them.
/// </summary>
internal sealed class NoDeviceEnrollments : IDeviceEnrollmentResolver
{
    public Task<IReadOnlyList<DeviceEnrollment>> ResolveAsync(string serialNumber, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeviceEnrollment>>([]);
}

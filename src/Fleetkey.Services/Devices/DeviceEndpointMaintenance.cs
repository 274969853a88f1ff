using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Prunes the device endpoint's tables while the server runs: used signatures once expired (an expired
/// token is refused anyway) and audit rows past the retention. Every node prunes; deleting what another
/// node already deleted costs nothing.
/// </summary>
internal sealed partial class DeviceEndpointMaintenance(DeviceRegistrationService devices, TimeProvider time, ILogger<DeviceEndpointMaintenance> logger)
    : PeriodicMaintenance(TimeSpan.FromMinutes(10), time)
{
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var (signatures, attempts) = await devices.PruneAsync(cancellationToken);
        if (signatures + attempts > 0)
        {
            LogPruned(logger, signatures, attempts);
        }
    }

    protected override void OnFailed(Exception exception) => LogPruneFailed(logger, exception);

    [LoggerMessage(EventId = 710, EventName = "DeviceTablesPruned", Level = LogLevel.Debug, Message = "Pruned {Signatures} expired device signatures and {Attempts} old device audit rows")]
    private static partial void LogPruned(ILogger logger, int signatures, int attempts);

    [LoggerMessage(EventId = 711, EventName = "DeviceTablesPruneFailed", Level = LogLevel.Warning, Message = "Pruning the device endpoint's tables failed; retrying at the next period")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

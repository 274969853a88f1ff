using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Prunes the device endpoint's tables while the server runs: used signatures once expired (an expired
/// token is refused anyway) and audit rows past the retention. Every node prunes; deleting what another
/// node already deleted costs nothing.
/// </summary>
internal sealed partial class DeviceEndpointMaintenance(DeviceRegistrationService devices, TimeProvider time, ILogger<DeviceEndpointMaintenance> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                var (signatures, attempts) = await devices.PruneAsync(stoppingToken);
                if (signatures + attempts > 0)
                {
                    LogPruned(logger, signatures, attempts);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogPruneFailed(logger, exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 710, EventName = "DeviceTablesPruned", Level = LogLevel.Debug, Message = "Pruned {Signatures} expired device signatures and {Attempts} old device audit rows")]
    private static partial void LogPruned(ILogger logger, int signatures, int attempts);

    [LoggerMessage(EventId = 711, EventName = "DeviceTablesPruneFailed", Level = LogLevel.Warning, Message = "Pruning the device endpoint's tables failed; retrying at the next period")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

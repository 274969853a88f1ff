using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Removes, while the server runs, the certificateOwnershipTokens that expired unused with their
/// certificates (still PENDING_ACTIVATION and attached to nothing), and expired provisioning claims
/// with their claim certificates. Every node sweeps; what another node already removed is skipped.
/// </summary>
internal sealed partial class FleetProvisioningSweep(FleetProvisioningService fleet, TimeProvider time, ILogger<FleetProvisioningSweep> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                var (tokens, certificates) = await fleet.SweepAsync(stoppingToken);
                if (tokens + certificates > 0)
                {
                    LogSwept(logger, tokens, certificates);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogSweepFailed(logger, exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 9204, EventName = "FleetProvisioningSwept", Level = LogLevel.Debug, Message = "Removed {Tokens} expired ownership tokens and {Certificates} unclaimed certificates")]
    private static partial void LogSwept(ILogger logger, int tokens, int certificates);

    [LoggerMessage(EventId = 9205, EventName = "FleetProvisioningSweepFailed", Level = LogLevel.Warning, Message = "Removing expired ownership tokens failed; retrying at the next period")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

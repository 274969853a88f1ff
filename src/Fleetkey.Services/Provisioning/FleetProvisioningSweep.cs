using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Removes, while the server runs, the certificateOwnershipTokens that expired unused with their
/// certificates (still PENDING_ACTIVATION and attached to nothing), and expired provisioning claims
/// with their claim certificates. Every node sweeps; what another node already removed is skipped.
/// </summary>
internal sealed partial class FleetProvisioningSweep(FleetProvisioningService fleet, TimeProvider time, ILogger<FleetProvisioningSweep> logger)
    : PeriodicMaintenance(TimeSpan.FromMinutes(1), time)
{
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var (tokens, certificates) = await fleet.SweepAsync(cancellationToken);
        if (tokens + certificates > 0)
        {
            LogSwept(logger, tokens, certificates);
        }
    }

    protected override void OnFailed(Exception exception) => LogSweepFailed(logger, exception);

    [LoggerMessage(EventId = 9204, EventName = "FleetProvisioningSwept", Level = LogLevel.Debug, Message = "Removed {Tokens} expired ownership tokens and {Certificates} unclaimed certificates")]
    private static partial void LogSwept(ILogger logger, int tokens, int certificates);

    [LoggerMessage(EventId = 9205, EventName = "FleetProvisioningSweepFailed", Level = LogLevel.Warning, Message = "Removing expired ownership tokens failed; retrying at the next period")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

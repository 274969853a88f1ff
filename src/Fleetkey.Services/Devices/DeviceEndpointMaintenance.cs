using Fleetkey.Services.Hosting;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Prunes the device endpoint's tables while the server runs: used signatures once expired (an expired
/// token is refused anyway) and audit rows past the retention. Every node prunes; deleting what another
/// node already deleted costs nothing.
/// </summary>
internal sealed partial class DeviceEndpointMaintenance(
    IFleetStore store,
    IOptions<DeviceEndpointOptions> options,
    TimeProvider time,
    ILogger<DeviceEndpointMaintenance> logger)
    : PeriodicMaintenance(TimeSpan.FromMinutes(10), time)
{
    private readonly TimeProvider _time = time;

    /// <summary>Deletes used signatures past their expiry and audit rows past the retention; returns how many of each.</summary>
    public Task<(int Signatures, int Attempts)> PruneAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var retention = options.Value.AuditRetention;
        return store.WriteAsync(
            async (session, ct) => (
                await session.DeviceEndpoint.PruneSignaturesAsync(now, ct),
                await session.DeviceEndpoint.PruneAttemptsAsync(now - retention, ct)),
            cancellationToken);
    }

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var (signatures, attempts) = await PruneAsync(cancellationToken);
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

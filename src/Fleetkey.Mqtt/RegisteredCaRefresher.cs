using Fleetkey.Services.Changes;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Keeps the broker's snapshot of registered ACTIVE CAs current: loads it before the broker starts and
/// reloads it whenever the fleet changed (every poll for a store without a change stamp), so that a CA
/// registered or deactivated on another node or by the CLI is seen within a poll interval. Changes made
/// through this process's API reload it at once.
/// </summary>
/// <remarks>A change counts as seen only once the reload after it succeeded: a failed reload is tried again at the next tick.</remarks>
internal sealed partial class RegisteredCaRefresher(
    RegisteredCaTrust trust,
    FleetChanges changes,
    IOptions<MqttBrokerOptions> options,
    TimeProvider time,
    ILogger<RegisteredCaRefresher> logger) : BackgroundService
{
    private ChangeStamp _seen;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The stamp before the load: a change committed during it is reloaded at the first tick.
        var stamp = await changes.CurrentAsync(cancellationToken);
        await trust.RefreshAsync(cancellationToken);
        _seen = stamp;
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var (changed, stamp) = await changes.SinceAsync(_seen, stoppingToken);
                    if (changed)
                    {
                        await trust.RefreshAsync(stoppingToken);
                        _seen = stamp;
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogRefreshFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 8103, EventName = "RegisteredCaRefreshFailed", Level = LogLevel.Error, Message = "Reloading the registered CA certificates failed; retrying at the next tick")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Keeps the broker's snapshot of registered ACTIVE CAs current: loads it before the broker starts and
/// reloads it whenever the store changed (every poll for a store without a change stamp), so that a CA
/// registered or deactivated on another node or by the CLI is seen within a poll interval. Changes made
/// through this process's API reload it at once.
/// </summary>
internal sealed partial class RegisteredCaRefresher(
    RegisteredCaTrust trust,
    IFleetStore store,
    IOptions<MqttBrokerOptions> options,
    TimeProvider time,
    ILogger<RegisteredCaRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await trust.RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationPollInterval, time);
        var seen = await store.ChangeStampAsync(stoppingToken);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var stamp = await store.ChangeStampAsync(stoppingToken);
                    if (stamp is not null && stamp == seen)
                    {
                        continue;
                    }

                    seen = stamp;
                    await trust.RefreshAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
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

using Microsoft.Extensions.Hosting;

namespace Fleetkey.Services.Hosting;

/// <summary>
/// Clean-up that runs while the server runs: once at start, then every <see cref="Period"/>. A failed
/// round is reported and tried again at the next period; stopping the server ends it.
/// </summary>
internal abstract class PeriodicMaintenance(TimeSpan period, TimeProvider time) : BackgroundService
{
    public TimeSpan Period { get; } = period;

    /// <summary>One round of the clean-up.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>Reports a round that failed (the next one runs at the next period).</summary>
    protected abstract void OnFailed(Exception exception);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                OnFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

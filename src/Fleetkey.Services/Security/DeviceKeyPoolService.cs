using Fleetkey.Pki;
using Fleetkey.Services.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Security;

/// <summary>
/// Runs the persistent device key pool with the server: counts it at start (and logs it), fills it
/// while the server is idle, and at stop puts the keys held in memory back in the store.
/// </summary>
internal sealed partial class DeviceKeyPoolService(DeviceKeyPool pool, ServerActivity activity, ILogger<DeviceKeyPoolService> logger, ILogger<DeviceKeyPool> poolLogger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (pool.Capacity == 0)
        {
            LogDisabled(logger, pool.AlgorithmName);
            return;
        }

        var deleted = await pool.PrepareAsync(cancellationToken);
        if (deleted > 0)
        {
            LogUnsealedDeleted(logger, deleted);
        }

        var where = pool.Persistent ? "the database" : "memory";
        LogStarting(logger, pool.AlgorithmName, pool.Stored, pool.Capacity, where, pool.EncryptsAtRest, pool.FirstTrancheSize);
        pool.Start(activity.IsIdle, poolLogger, activity.WhenIdleAsync);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (pool.Capacity == 0)
        {
            return;
        }

        await pool.StopAsync(cancellationToken);
        var (pooled, onDemand) = pool.HandedOut;
        LogStopped(logger, pool.Stored, pool.Generated, pooled, onDemand);
    }

    [LoggerMessage(EventId = 310, EventName = "KeyPoolStarting", Level = LogLevel.Information,
        Message = "Device key pool ({Algorithm}): {Stored} of {Capacity} keys ready in {Where} (encrypted at rest: {Encrypted}); filling at low priority while the server is idle, the first {FirstTranche} also while it is busy")]
    private static partial void LogStarting(ILogger logger, string algorithm, int stored, int capacity, string where, bool encrypted, int firstTranche);

    [LoggerMessage(EventId = 311, EventName = "KeyPoolDisabled", Level = LogLevel.Information, Message = "Device key pool off: every {Algorithm} device key is generated on demand")]
    private static partial void LogDisabled(ILogger logger, string algorithm);

    [LoggerMessage(EventId = 312, EventName = "KeyPoolUnsealedDeleted", Level = LogLevel.Warning,
        Message = "Deleted {Count} pooled device keys stored unencrypted before a CA passphrase was configured")]
    private static partial void LogUnsealedDeleted(ILogger logger, int count);

    [LoggerMessage(EventId = 313, EventName = "KeyPoolStopped", Level = LogLevel.Information,
        Message = "Device key pool stopped: {Stored} keys stored; {Generated} generated, {Pooled} handed out from the pool and {OnDemand} generated on demand since start")]
    private static partial void LogStopped(ILogger logger, int stored, long generated, long pooled, long onDemand);
}

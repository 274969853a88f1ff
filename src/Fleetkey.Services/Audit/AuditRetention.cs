using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Audit;

/// <summary>How long the audit trail keeps records (<c>--audit-retention-days</c>).</summary>
public sealed class AuditOptions
{
    public int RetentionDays { get; set; } = 365;

    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Prunes audit records older than the retention, hourly; the chain's anchor keeps the rest verifiable.</summary>
internal sealed partial class AuditRetention(AuditTrail trail, IOptions<AuditOptions> options, TimeProvider time, ILogger<AuditRetention> logger)
    : PeriodicMaintenance(options.Value.PruneInterval, time)
{
    private readonly TimeProvider _clock = time;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var pruned = await trail.PruneAsync(_clock.GetUtcNow().AddDays(-options.Value.RetentionDays), cancellationToken);
        if (pruned > 0)
        {
            LogPruned(logger, pruned, options.Value.RetentionDays);
        }
    }

    protected override void OnFailed(Exception exception) => LogPruneFailed(logger, exception);

    [LoggerMessage(EventId = 1, EventName = "AuditPruned", Level = LogLevel.Information, Message = "Pruned {Count} audit record(s) older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int count, int days);

    [LoggerMessage(EventId = 2, EventName = "AuditPruneFailed", Level = LogLevel.Warning, Message = "Pruning the audit trail failed; it is tried again at the next period")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

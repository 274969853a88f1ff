using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Security;

/// <summary>Retires, at each sweep, the renewed certificates whose grace period has ended.</summary>
internal sealed partial class RenewalGraceSweep(CertificateRenewalService renewals, IOptions<CertificateRenewalOptions> options, TimeProvider time, ILogger<RenewalGraceSweep> logger)
    : PeriodicMaintenance(options.Value.SweepInterval, time)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => renewals.RetireDueAsync(cancellationToken);

    protected override void OnFailed(Exception exception) => LogSweepFailed(logger, exception);

    [LoggerMessage(EventId = 722, EventName = "RenewalSweepFailed", Level = LogLevel.Warning, Message = "Retiring renewed certificates past their grace period failed; retrying at the next sweep")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}

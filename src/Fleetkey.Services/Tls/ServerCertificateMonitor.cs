using Fleetkey.Services.Hosting;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Tls;

/// <summary>Asks the server-certificate provider, at its source's interval, whether to renew or reload.</summary>
internal sealed partial class ServerCertificateMonitor(ServerCertificateProvider provider, TimeProvider time, ILogger<ServerCertificateMonitor> logger)
    : PeriodicMaintenance(provider.CheckInterval, time)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken)
    {
        provider.Refresh();
        return Task.CompletedTask;
    }

    protected override void OnFailed(Exception exception) => LogCheckFailed(logger, exception);

    [LoggerMessage(EventId = 8104, EventName = "ServerCertificateCheckFailed", Level = LogLevel.Error, Message = "Checking the TLS server certificate failed; the current one stays and the check runs again at the next period")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}

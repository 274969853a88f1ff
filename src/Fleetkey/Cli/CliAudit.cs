using Fleetkey.Core.Errors;
using Fleetkey.Services.Audit;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fleetkey.Cli;

/// <summary>
/// Records a change made with a <c>fleetkey</c> command (keys, enrollments) in the audit trail, channel
/// <c>cli</c>, source <c>local</c>, with its outcome: the command line changes the fleet as the control plane does.
/// </summary>
internal static class CliAudit
{
    public static async Task RecordAsync(IFleetStore store, string operation, IReadOnlyList<string> resources, ServiceException? failure)
    {
        await using var writer = new AuditWriter(store, NullLogger<AuditWriter>.Instance);
        await writer.AppendAsync(
            AuditRecord.Unnumbered(
                DateTimeOffset.UtcNow, Guid.NewGuid().ToString(), AuditRecord.Cli, null, operation, resources, "local",
                $"fleetkey ({Environment.UserName})", failure?.Code.HttpStatus ?? 200, failure?.Code.Name),
            CancellationToken.None);
    }
}

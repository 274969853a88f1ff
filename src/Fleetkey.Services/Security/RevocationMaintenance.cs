using Fleetkey.Pki;
using Fleetkey.Services.Hosting;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Security;

/// <summary>
/// Keeps the revocation tables usable: before the server answers anything, gives the certificates
/// stored before schema 13 their serial numbers (OCSP finds certificates by them); then, daily, drops
/// the tombstones of deleted certificates that have expired (they left the CRL when they expired).
/// </summary>
internal sealed partial class RevocationMaintenance(IFleetStore store, TimeProvider time, ILogger<RevocationMaintenance> logger)
    : PeriodicMaintenance(TimeSpan.FromDays(1), time)
{
    private const int Batch = 500;

    private readonly TimeProvider _time = time;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var filled = await FillSerialNumbersAsync(cancellationToken);
        if (filled > 0)
        {
            LogSerialNumbersFilled(logger, filled);
        }

        await base.StartAsync(cancellationToken);
    }

    /// <summary>Gives every certificate stored without a serial number its own (from its PEM); returns how many.</summary>
    public async Task<int> FillSerialNumbersAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var filled = await store.WriteAsync(
                async (session, ct) =>
                {
                    var rows = await session.Revocation.ListWithoutSerialNumberAsync(Batch, ct);
                    foreach (var (certificateId, pem) in rows)
                    {
                        await session.Revocation.SetSerialNumberAsync(certificateId, SerialNumberOf(pem), ct);
                    }

                    return rows.Count;
                },
                cancellationToken);
            total += filled;
            if (filled < Batch)
            {
                return total;
            }
        }
    }

    /// <summary>Drops the tombstones of certificates expired now; returns how many.</summary>
    public Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return store.WriteAsync((session, ct) => session.Revocation.PruneTombstonesAsync(now, ct), cancellationToken);
    }

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var pruned = await PruneAsync(cancellationToken);
        if (pruned > 0)
        {
            LogPruned(logger, pruned);
        }
    }

    protected override void OnFailed(Exception exception) => LogPruneFailed(logger, exception);

    // A stored PEM parsed when it was stored; one that no longer does (damage) gets a serial no request can ask for.
    private static string SerialNumberOf(string pem)
    {
        try
        {
            var parsed = CertificateInspector.Parse(pem);
            parsed.Certificate.Dispose();
            return parsed.SerialNumber;
        }
        catch (PkiException)
        {
            return "00";
        }
    }

    [LoggerMessage(EventId = 731, EventName = "CertificateSerialNumbersFilled", Level = LogLevel.Information, Message = "Stored the serial numbers of {Count} certificates stored before schema 13 (OCSP finds certificates by them)")]
    private static partial void LogSerialNumbersFilled(ILogger logger, int count);

    [LoggerMessage(EventId = 732, EventName = "TombstonesPruned", Level = LogLevel.Debug, Message = "Dropped {Count} tombstones of deleted certificates that have expired")]
    private static partial void LogPruned(ILogger logger, int count);

    [LoggerMessage(EventId = 733, EventName = "TombstonesPruneFailed", Level = LogLevel.Warning, Message = "Dropping the tombstones of expired certificates failed; retrying at the next period")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Services.Security;

/// <summary>
/// Renewal over EST (<c>simplereenroll</c>): a device that proves it holds a known, ACTIVE, unexpired
/// certificate (mutual TLS) gets a new certificate for a new key, attached to the same things with the
/// same policies, in one transaction. The old certificate stays ACTIVE until the device uses the new one
/// (its first MQTT connection, or a renewal presenting it) or until the grace period ends, whichever
/// comes first: a device that lost the answer, or has not yet installed the new certificate, can still
/// connect and renew again; after that the old key is of no use to anyone who copied it.
/// </summary>
public sealed partial class CertificateRenewalService(
    IFleetStore store,
    CertificateAuthority authority,
    CertificateService certificates,
    IOptions<CertificateRenewalOptions> options,
    TimeProvider time,
    ILogger<CertificateRenewalService> logger)
{
    private const int PageSize = 100;

    /// <summary>Renews <paramref name="presented"/> (the TLS client certificate) with the key of <paramref name="csrPem"/>.</summary>
    /// <exception cref="ServiceException">
    /// Unauthorized (401): the certificate is unknown, not ACTIVE or expired; InvalidRequest (400): the CSR is
    /// not valid or reuses the current key; TooManyRequests (429): it was renewed less than
    /// <see cref="CertificateRenewalOptions.MinInterval"/> ago.
    /// </exception>
    public async Task<Certificate> RenewAsync(X509Certificate2 presented, string csrPem, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var currentId = CertificateInspector.CertificateId(presented.RawDataMemory.Span);
        var now = time.GetUtcNow();
        var current = await store.ReadAsync((session, ct) => session.Certificates.GetAsync(currentId, ct), cancellationToken);
        if (current is null || current.Status != CertificateStatus.Active || current.NotAfter <= now || current.NotBefore > now)
        {
            // One answer for unknown, inactive, revoked and expired: the caller learns nothing about which.
            throw new ServiceException(ErrorCode.Unauthorized, "The client certificate is not a known, ACTIVE and valid certificate.");
        }

        IssuedCertificate issued;
        try
        {
            issued = authority.IssueRenewal(csrPem, presented);
        }
        catch (PkiException exception)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The certificate signing request is not valid: {exception.Message}");
        }

        var renewed = await store.WriteAsync((session, ct) => RenewAsync(session, current, issued, now, ct), cancellationToken);
        LogRenewed(logger, currentId, renewed.CertificateId, now + options.Value.Grace);
        return renewed;
    }

    /// <summary>A certificate was used (connected to the broker): if it came from a renewal, the one it replaced is retired now.</summary>
    public async Task CompleteAsync(string newCertificateId, CancellationToken cancellationToken)
    {
        var retired = await store.WriteAsync(async (session, ct) =>
        {
            var renewal = await session.CertificateRenewals.FindByNewAsync(newCertificateId, ct);
            return renewal is not null && await RetireAsync(session, renewal, ct) ? renewal.OldCertificateId : null;
        }, cancellationToken);
        if (retired is not null)
        {
            LogRetired(logger, retired, "its successor connected");
        }
    }

    /// <summary>Retires the old certificates whose grace period has ended; returns how many.</summary>
    public async Task<int> RetireDueAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var now = time.GetUtcNow();
            var retired = await store.WriteAsync(async (session, ct) =>
            {
                var due = await session.CertificateRenewals.ListDueAsync(now, PageSize, ct);
                var ids = new List<string>(due.Count);
                foreach (var renewal in due)
                {
                    if (await RetireAsync(session, renewal, ct))
                    {
                        ids.Add(renewal.OldCertificateId);
                    }
                }

                return (ids, due.Count);
            }, cancellationToken);
            foreach (var id in retired.ids)
            {
                LogRetired(logger, id, "its grace period ended");
            }

            total += retired.ids.Count;
            if (retired.Count < PageSize)
            {
                return total;
            }
        }
    }

    /// <summary>The pending renewal of <paramref name="oldCertificateId"/>, or null.</summary>
    public Task<CertificateRenewal?> FindPendingAsync(string oldCertificateId, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.CertificateRenewals.FindByOldAsync(oldCertificateId, ct), cancellationToken);

    private async Task<Certificate> RenewAsync(IStoreSession session, Certificate current, IssuedCertificate issued, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Renewing with a certificate that itself came from a renewal proves the device installed it: retire its predecessor.
        if (await session.CertificateRenewals.FindByNewAsync(current.CertificateId, cancellationToken) is { } installed)
        {
            await RetireAsync(session, installed, cancellationToken);
        }

        // Renewing again with the same old certificate (the answer was lost): the earlier successor was never used.
        if (await session.CertificateRenewals.FindByOldAsync(current.CertificateId, cancellationToken) is { } earlier)
        {
            if (now - earlier.RenewedAt < options.Value.MinInterval)
            {
                throw new ServiceException(
                    ErrorCode.TooManyRequests,
                    $"Certificate {current.CertificateId} was renewed less than {options.Value.MinInterval.TotalSeconds:0} seconds ago; retry later.");
            }

            await session.CertificateRenewals.DeleteAsync(earlier.OldCertificateId, cancellationToken);
            if (await session.Certificates.GetAsync(earlier.NewCertificateId, cancellationToken) is { Status: CertificateStatus.Active } unused)
            {
                await certificates.SetStatusAsync(session, unused, CertificateStatus.Inactive, cancellationToken);
            }
        }

        var renewed = await certificates.InsertIssuedAsync(session, issued, CertificateStatus.Active, cancellationToken);
        var principal = current.CertificateId;
        string? afterThing = null;
        while (true)
        {
            var attached = await session.ThingPrincipals.ListForPrincipalAsync(PrincipalKind, principal, afterThing, PageSize, cancellationToken);
            foreach (var thing in attached)
            {
                await session.ThingPrincipals.AttachAsync(thing with { PrincipalId = renewed.CertificateId }, now, cancellationToken);
            }

            if (attached.Count < PageSize)
            {
                break;
            }

            afterThing = attached[^1].ThingName;
        }

        var target = new PolicyTarget(PolicyTarget.CertificateKind, principal);
        string? afterPolicy = null;
        while (true)
        {
            var policies = await session.Policies.ListAttachedAsync([target], afterPolicy, PageSize, cancellationToken);
            foreach (var policy in policies)
            {
                await session.Policies.AttachAsync(policy, new PolicyTarget(PolicyTarget.CertificateKind, renewed.CertificateId), now, cancellationToken);
            }

            if (policies.Count < PageSize)
            {
                break;
            }

            afterPolicy = policies[^1];
        }

        await session.CertificateRenewals.InsertAsync(new CertificateRenewal(principal, renewed.CertificateId, now, now + options.Value.Grace), cancellationToken);
        return renewed;
    }

    /// <summary>Sets the old certificate INACTIVE (unless it already left ACTIVE) and forgets the renewal.</summary>
    private async Task<bool> RetireAsync(IStoreSession session, CertificateRenewal renewal, CancellationToken cancellationToken)
    {
        if (!await session.CertificateRenewals.DeleteAsync(renewal.OldCertificateId, cancellationToken))
        {
            return false;
        }

        if (await session.Certificates.GetAsync(renewal.OldCertificateId, cancellationToken) is { Status: CertificateStatus.Active } old)
        {
            await certificates.SetStatusAsync(session, old, CertificateStatus.Inactive, cancellationToken);
        }

        return true;
    }

    private const string PrincipalKind = PolicyTarget.CertificateKind;

    [LoggerMessage(EventId = 720, EventName = "CertificateRenewed", Level = LogLevel.Information, Message = "Certificate {OldCertificateId} renewed as {NewCertificateId}; the old one is retired when the new one connects, or at {DeactivateAt:u}")]
    private static partial void LogRenewed(ILogger logger, string oldCertificateId, string newCertificateId, DateTimeOffset deactivateAt);

    [LoggerMessage(EventId = 721, EventName = "RenewedCertificateRetired", Level = LogLevel.Information, Message = "Certificate {CertificateId} set INACTIVE: {Reason}")]
    private static partial void LogRetired(ILogger logger, string certificateId, string reason);
}

using Fleetkey.Core.Errors;
using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// Which certificates end when: the expiry list of the CLI and the control plane, and the counts behind
/// the expiry gauges. "Now" is the service's clock; a certificate is expired once its not-after has passed.
/// </summary>
public sealed class CertificateExpiryService(IFleetStore store, TimeProvider time)
{
    /// <summary>The statuses a list shows when none is asked for: only ACTIVE certificates let a device connect.</summary>
    public static readonly IReadOnlyList<string> DefaultStatuses = [CertificateStatus.Active];

    /// <summary>Every status a certificate can have, in AWS's order.</summary>
    public static readonly IReadOnlyList<string> AllStatuses =
    [
        CertificateStatus.Active, CertificateStatus.Inactive, CertificateStatus.Revoked,
        CertificateStatus.PendingTransfer, CertificateStatus.RegisterInactive, CertificateStatus.PendingActivation,
    ];

    /// <summary>
    /// A page of the certificates <paramref name="query"/> selects, soonest not-after first (the longest
    /// expired first when expired ones are included), then by id.
    /// </summary>
    public Task<Page<ExpiringCertificate>> ListAsync(ExpiryQuery query, PageRequest page, CancellationToken cancellationToken)
    {
        var range = Range(query, time.GetUtcNow());
        return store.ReadAsync(
            async (session, ct) => Paging.ToPage(
                await session.Certificates.ListExpiringAsync(range, page.After, page.Fetch, ct),
                page.Limit,
                c => Paging.ExpiryKey(c.NotAfter, c.CertificateId)),
            cancellationToken);
    }

    /// <summary>ACTIVE certificates ending within each of <paramref name="windows"/> from now, and those already past their end, read in one transaction.</summary>
    public Task<ExpiryCounts> CountActiveAsync(IReadOnlyList<ExpiryWindow> windows, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return store.ReadAsync(
            async (session, ct) =>
            {
                var expiring = new List<(ExpiryWindow, long)>(windows.Count);
                foreach (var window in windows)
                {
                    expiring.Add((window, await session.Certificates.CountExpiringAsync(new ExpiryRange(DefaultStatuses, now, now + window.Duration), ct)));
                }

                var expired = await session.Certificates.CountExpiringAsync(new ExpiryRange(DefaultStatuses, null, now), ct);
                return new ExpiryCounts(now, expiring, expired);
            },
            cancellationToken);
    }

    /// <summary>The store's range for a query at <paramref name="now"/>; an unknown status is an InvalidRequest naming the valid ones.</summary>
    internal static ExpiryRange Range(ExpiryQuery query, DateTimeOffset now)
    {
        var statuses = query.Statuses is { Count: > 0 } asked ? asked.Distinct(StringComparer.Ordinal).ToArray() : DefaultStatuses;
        var unknown = statuses.Where(s => !AllStatuses.Contains(s, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            ThrowHelper.InvalidRequest($"Unknown certificate status {string.Join(", ", unknown.Select(s => $"'{s}'"))}: a status is one of {string.Join(", ", AllStatuses)}.");
        }

        return new ExpiryRange(statuses, query.IncludeExpired ? null : now, now + query.Within.Duration);
    }
}

using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Pki;
using Fleetkey.Services.Changes;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Security;

/// <summary>
/// The issuing CA's CRL (RFC 5280 v2, DER), as <see cref="RevocationRules"/> says: built from the store,
/// kept, and signed again when what it lists changes, or once <see cref="RefreshAfter"/> of its
/// <see cref="Validity"/> has passed, so that a CRL served is always valid for at least half a day.
/// </summary>
/// <remarks>
/// <para>Freshness on every node: a kept CRL is served only while the store's change stamp
/// (<see cref="FleetChanges"/>) has not moved since its entries were read; once it moved (a commit here,
/// on another node or by the CLI: at once on SQLite, within 100 ms on PostgreSQL), the next request reads
/// the entries again and signs a new CRL if they differ. So a status change is in the CRL the next
/// request gets, on every node.</para>
/// <para>CRL numbers come from the store (<see cref="IRevocationRepository.NextCrlNumberAsync"/>): each
/// is above every number any node handed out before, and at least the time in Unix milliseconds.</para>
/// <para>Only the CA Fleetkey signs with has a CRL: a registered CA's key is not Fleetkey's.</para>
/// </remarks>
public sealed partial class CrlService(IFleetStore store, CertificateAuthority authority, FleetChanges changes, TimeProvider time, ILogger<CrlService> logger) : IDisposable
{
    /// <summary>nextUpdate − thisUpdate.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromHours(24);

    /// <summary>How old a CRL may get before it is signed again though nothing changed.</summary>
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromHours(12);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Published? _published;

    /// <summary>The CRL (DER) of the CA whose certificate id is <paramref name="caCertificateId"/>, or null when Fleetkey signs no CRL for it.</summary>
    public async Task<byte[]?> GetAsync(string caCertificateId, CancellationToken cancellationToken)
    {
        if (!string.Equals(caCertificateId, authority.IssuingCertificateId, StringComparison.Ordinal))
        {
            return null;
        }

        if (Volatile.Read(ref _published) is { } kept && IsCurrent(kept, await changes.CurrentAsync(cancellationToken)))
        {
            return kept.Der;
        }

        // One rebuild at a time: the requests meanwhile get its result.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Read before the entries: a commit after this is seen by the next request.
            var stamp = await changes.CurrentAsync(cancellationToken);
            kept = _published;
            if (kept is not null && IsCurrent(kept, stamp))
            {
                return kept.Der;
            }

            var now = time.GetUtcNow();
            var entries = await store.ReadAsync((session, ct) => session.Revocation.ListNotActiveAsync(caCertificateId, now, ct), cancellationToken);
            var digest = Digest(entries);
            if (kept is not null && now < kept.ThisUpdate + RefreshAfter && kept.Digest.AsSpan().SequenceEqual(digest))
            {
                Volatile.Write(ref _published, kept with { Stamp = stamp });
                return kept.Der;
            }

            var thisUpdate = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
            var number = await store.WriteAsync(
                (session, ct) => session.Revocation.NextCrlNumberAsync(caCertificateId, thisUpdate.ToUnixTimeMilliseconds(), ct), cancellationToken);
            var der = authority.SignCrl(entries.Select(RevocationRules.CrlEntry), new BigInteger(number), thisUpdate, thisUpdate + Validity);
            Volatile.Write(ref _published, new Published(der, digest, thisUpdate, stamp));
            LogSigned(logger, number, entries.Count);
            return der;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private bool IsCurrent(Published kept, ChangeStamp stamp) =>
        !stamp.ChangedSince(kept.Stamp) && time.GetUtcNow() < kept.ThisUpdate + RefreshAfter;

    /// <summary>What the CRL lists, as one hash: equal entries make an equal CRL (but for its times and number).</summary>
    private static byte[] Digest(IReadOnlyList<RevocationRecord> entries)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var entry in entries)
        {
            var reason = RevocationRules.Reason(entry);
            hash.AppendData(Encoding.ASCII.GetBytes($"{entry.SerialNumber} {entry.ChangedAt.ToUnixTimeSeconds()} {(reason is null ? "-" : (int)reason)}\n"));
        }

        return hash.GetHashAndReset();
    }

    [LoggerMessage(EventId = 730, EventName = "CrlSigned", Level = LogLevel.Information, Message = "Signed CRL number {CrlNumber} of the issuing CA with {Entries} entries")]
    private static partial void LogSigned(ILogger logger, long crlNumber, int entries);

    private sealed record Published(byte[] Der, byte[] Digest, DateTimeOffset ThisUpdate, ChangeStamp Stamp);
}

namespace Fleetkey.Storage;

/// <summary>
/// What a CA's CRL and OCSP answers are made of: its certificates by serial number, those that are not
/// ACTIVE, the tombstones deleted ones leave (see <see cref="ICertificateRepository.DeleteAsync"/>), and
/// the CRL numbers handed out.
/// </summary>
public interface IRevocationRepository
{
    /// <summary>
    /// The certificate of <paramref name="caCertificateId"/> with this serial number: the stored one, else
    /// the tombstone of a deleted one, else null.
    /// </summary>
    Task<RevocationRecord?> FindAsync(string caCertificateId, string serialNumber, CancellationToken cancellationToken);

    /// <summary>
    /// Every certificate of <paramref name="caCertificateId"/> that is not ACTIVE and not expired at
    /// <paramref name="at"/>, stored or deleted (a tombstone whose certificate is stored again is left out),
    /// in serial-number order.
    /// </summary>
    Task<IReadOnlyList<RevocationRecord>> ListNotActiveAsync(string caCertificateId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// The next CRL number of <paramref name="caCertificateId"/>: one more than the last one handed out by
    /// any node, and at least <paramref name="atLeast"/>.
    /// </summary>
    Task<long> NextCrlNumberAsync(string caCertificateId, long atLeast, CancellationToken cancellationToken);

    /// <summary>Removes the tombstones of certificates expired at <paramref name="at"/>; returns how many.</summary>
    Task<int> PruneTombstonesAsync(DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> certificates stored without a serial number (before schema 13): id and PEM.</summary>
    Task<IReadOnlyList<(string CertificateId, string Pem)>> ListWithoutSerialNumberAsync(int limit, CancellationToken cancellationToken);

    Task SetSerialNumberAsync(string certificateId, string serialNumber, CancellationToken cancellationToken);
}

/// <summary>
/// A certificate's revocation facts: its status and when it last changed (for a REVOKED one, when it was
/// revoked: a revoked certificate changes no more), and whether only its tombstone is left.
/// </summary>
public sealed record RevocationRecord(string CertificateId, string SerialNumber, string Status, DateTimeOffset ChangedAt, DateTimeOffset NotAfter, bool Deleted);

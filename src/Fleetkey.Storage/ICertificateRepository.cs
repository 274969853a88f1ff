using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface ICertificateRepository
{
    Task<Certificate?> GetAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Inserts a certificate; throws ResourceAlreadyExists when its id is taken.</summary>
    Task InsertAsync(Certificate certificate, CancellationToken cancellationToken);

    Task UpdateAsync(Certificate certificate, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a certificate. One of a CA leaves a tombstone (<see cref="IRevocationRepository"/>): it stays
    /// on the CA's CRL, and revoked for OCSP, until it expires.
    /// </summary>
    Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Certificates by creation date (then id), optionally of one CA, after a <see cref="Paging.CreationKey"/>.</summary>
    Task<IReadOnlyList<Certificate>> ListAsync(string? caCertificateId, bool ascending, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Certificates in <paramref name="range"/> by not-after, then id, after a <see cref="Paging.ExpiryKey"/>,
    /// each with the things it is attached to. Temporary claim certificates are left out, as from every list.
    /// </summary>
    Task<IReadOnlyList<ExpiringCertificate>> ListExpiringAsync(ExpiryRange range, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>How many certificates <see cref="ListExpiringAsync"/> would list for <paramref name="range"/>, from the not-after index.</summary>
    Task<long> CountExpiringAsync(ExpiryRange range, CancellationToken cancellationToken);
}

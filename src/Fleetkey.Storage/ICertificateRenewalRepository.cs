namespace Fleetkey.Storage;

/// <summary>Certificates renewed over EST whose predecessor is still ACTIVE, until it is retired.</summary>
public interface ICertificateRenewalRepository
{
    /// <summary>Records a renewal; false when the old certificate already has one pending (the store keeps one).</summary>
    Task<bool> InsertAsync(CertificateRenewal renewal, CancellationToken cancellationToken);

    /// <summary>The pending renewal that made <paramref name="newCertificateId"/>, or null.</summary>
    Task<CertificateRenewal?> FindByNewAsync(string newCertificateId, CancellationToken cancellationToken);

    /// <summary>The pending renewal of <paramref name="oldCertificateId"/>, or null.</summary>
    Task<CertificateRenewal?> FindByOldAsync(string oldCertificateId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> renewals whose grace period ended at or before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<CertificateRenewal>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Forgets a renewal (its old certificate is retired); false when it was already gone.</summary>
    Task<bool> DeleteAsync(string oldCertificateId, CancellationToken cancellationToken);
}

using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface ICaCertificateRepository
{
    Task<CaCertificate?> GetAsync(string certificateId, CancellationToken cancellationToken);

    Task<IReadOnlyList<CaCertificate>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Inserts a CA certificate; throws ResourceAlreadyExists when its id is taken.</summary>
    Task InsertAsync(CaCertificate certificate, CancellationToken cancellationToken);

    /// <summary>Replaces status, auto-registration, registration config and versions of a CA certificate.</summary>
    Task UpdateAsync(CaCertificate certificate, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>
    /// Registered (not managed) CA certificates by creation date (then id), after a
    /// <see cref="Paging.CreationKey"/>, optionally only those whose registration config names a template.
    /// </summary>
    Task<IReadOnlyList<CaCertificate>> ListRegisteredAsync(string? templateName, bool ascending, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Whether any device certificate names the CA as its issuer.</summary>
    Task<bool> HasDeviceCertificatesAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>The account's registration code, or null when none was made (or it was deleted).</summary>
    Task<string?> GetRegistrationCodeAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Stores the account's registration code unless it has one; returns the code in force.</summary>
    Task<string> EnsureRegistrationCodeAsync(string accountId, string code, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DeleteRegistrationCodeAsync(string accountId, CancellationToken cancellationToken);
}

using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

/// <summary>Individual enrollments by serial number (byte order). Secrets are stored as given.</summary>
public interface IEnrollmentRepository
{
    Task<Enrollment?> GetAsync(string serialNumber, CancellationToken cancellationToken);

    /// <summary>Inserts an enrollment; throws ResourceAlreadyExists when the serial number is taken.</summary>
    Task InsertAsync(Enrollment enrollment, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts many enrollments in few statements (a production run's import); throws
    /// ResourceAlreadyExists, and inserts none of them, when a serial number is taken.
    /// </summary>
    Task InsertManyAsync(IReadOnlyList<Enrollment> enrollments, CancellationToken cancellationToken);

    /// <summary>The enrollments among <paramref name="serialNumbers"/> that exist.</summary>
    Task<IReadOnlyList<Enrollment>> FindManyAsync(IReadOnlyList<string> serialNumbers, CancellationToken cancellationToken);

    /// <summary>Replaces everything but the serial number, secret and creation date; false when there is no such enrollment.</summary>
    Task<bool> UpdateAsync(Enrollment enrollment, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string serialNumber, CancellationToken cancellationToken);

    /// <summary>Enrollments ordered by serial number, after a serial number.</summary>
    Task<IReadOnlyList<Enrollment>> ListAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Enrollments whose secret is stored in the clear (no salt), by serial number, after a serial number.</summary>
    Task<IReadOnlyList<Enrollment>> ListUnsealedAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces an enrollment's stored secret (when it is sealed); false when there is no such enrollment.</summary>
    Task<bool> UpdateSecretAsync(string serialNumber, byte[] secretData, byte[]? kekSalt, CancellationToken cancellationToken);

    /// <summary>Whether any enrollment provisions with the template.</summary>
    Task<bool> AnyForTemplateAsync(string templateName, CancellationToken cancellationToken);
}

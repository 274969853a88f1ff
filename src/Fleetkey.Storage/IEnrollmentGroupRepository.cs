using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

/// <summary>Enrollment groups by name (byte order). Keys are stored as given: the store never opens them.</summary>
public interface IEnrollmentGroupRepository
{
    Task<EnrollmentGroup?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a group; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(EnrollmentGroup group, CancellationToken cancellationToken);

    /// <summary>Replaces everything but the name, key and creation date; false when there is no such group.</summary>
    Task<bool> UpdateAsync(EnrollmentGroup group, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Groups ordered by name, after a name.</summary>
    Task<IReadOnlyList<EnrollmentGroup>> ListAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Groups whose key is stored in the clear (no salt), by name, after a name.</summary>
    Task<IReadOnlyList<EnrollmentGroup>> ListUnsealedAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces a group's stored key (when it is sealed); false when there is no such group.</summary>
    Task<bool> UpdateKeyAsync(string name, byte[] keyData, byte[]? kekSalt, CancellationToken cancellationToken);

    /// <summary>Whether any group provisions with the template (a template in use should not be deleted).</summary>
    Task<bool> AnyForTemplateAsync(string templateName, CancellationToken cancellationToken);
}

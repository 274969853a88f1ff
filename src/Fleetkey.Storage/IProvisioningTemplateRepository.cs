using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IProvisioningTemplateRepository
{
    Task<ProvisioningTemplate?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a template with its first version; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(ProvisioningTemplate provisioningTemplate, ProvisioningTemplateVersion firstVersion, CancellationToken cancellationToken);

    Task UpdateAsync(ProvisioningTemplate provisioningTemplate, CancellationToken cancellationToken);

    /// <summary>Deletes a template with all its versions.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Templates by name (byte order), after a name.</summary>
    Task<IReadOnlyList<ProvisioningTemplate>> ListAsync(string? after, int limit, CancellationToken cancellationToken);

    Task<ProvisioningTemplateVersion?> GetVersionAsync(string templateName, long versionId, CancellationToken cancellationToken);

    /// <summary>A template's versions, oldest (lowest id) first, after a version id.</summary>
    Task<IReadOnlyList<ProvisioningTemplateVersion>> ListVersionsAsync(string templateName, long? afterVersionId, int limit, CancellationToken cancellationToken);

    Task<int> CountVersionsAsync(string templateName, CancellationToken cancellationToken);

    Task InsertVersionAsync(ProvisioningTemplateVersion version, CancellationToken cancellationToken);

    Task<bool> DeleteVersionAsync(string templateName, long versionId, CancellationToken cancellationToken);
}

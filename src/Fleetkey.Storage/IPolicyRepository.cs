using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IPolicyRepository
{
    Task<Policy?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a policy with its first version; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(Policy policy, PolicyVersion firstVersion, CancellationToken cancellationToken);

    Task UpdateAsync(Policy policy, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Policies by creation date (then name), after a <see cref="Paging.CreationKey"/>.</summary>
    Task<IReadOnlyList<Policy>> ListAsync(bool ascending, string? after, int limit, CancellationToken cancellationToken);

    Task<PolicyVersion?> GetVersionAsync(string policyName, long versionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<PolicyVersion>> ListVersionsAsync(string policyName, CancellationToken cancellationToken);

    Task InsertVersionAsync(PolicyVersion version, CancellationToken cancellationToken);

    Task<bool> DeleteVersionAsync(string policyName, long versionId, CancellationToken cancellationToken);

    Task<bool> AttachAsync(string policyName, PolicyTarget target, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DetachAsync(string policyName, PolicyTarget target, CancellationToken cancellationToken);

    Task<int> DetachAllAsync(PolicyTarget target, CancellationToken cancellationToken);

    /// <summary>Names of the policies attached to any of the targets, ordered, after a name.</summary>
    Task<IReadOnlyList<string>> ListAttachedAsync(IReadOnlyList<PolicyTarget> targets, string? after, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<PolicyTarget>> ListTargetsAsync(string policyName, string? after, int limit, CancellationToken cancellationToken);

    Task<int> CountAttachedAsync(PolicyTarget target, CancellationToken cancellationToken);

    Task<bool> IsAttachedAnywhereAsync(string policyName, CancellationToken cancellationToken);
}

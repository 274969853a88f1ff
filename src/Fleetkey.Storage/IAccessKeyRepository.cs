using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

/// <summary>Access keys as stored: secrets possibly sealed (see <see cref="AccessKey.SecretKekSalt"/>), with their policies.</summary>
public interface IAccessKeyRepository
{
    Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken);

    /// <summary>Inserts the key and its policies.</summary>
    Task InsertAsync(AccessKey key, CancellationToken cancellationToken);

    Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken);

    Task<bool> AnyAsync(CancellationToken cancellationToken);

    Task<bool> UpdateStatusAsync(string accessKeyId, string status, CancellationToken cancellationToken);

    /// <summary>Replaces the secret (and the previous one, kept until it expires) of a key, as stored.</summary>
    Task<bool> UpdateSecretsAsync(AccessKey key, CancellationToken cancellationToken);

    /// <summary>Attaches a policy, replacing the document of one attached under the same name.</summary>
    Task PutPolicyAsync(string accessKeyId, AccessKeyPolicy policy, CancellationToken cancellationToken);

    Task<bool> DeletePolicyAsync(string accessKeyId, string policyName, CancellationToken cancellationToken);

    /// <summary>Records when and from where keys were last used; an older use than the stored one changes nothing.</summary>
    Task RecordUsesAsync(IReadOnlyList<(string AccessKeyId, DateTimeOffset At, string Source)> uses, CancellationToken cancellationToken);
}

using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IAccessKeyRepository
{
    Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken);

    Task InsertAsync(AccessKey key, CancellationToken cancellationToken);

    Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken);

    Task<bool> AnyAsync(CancellationToken cancellationToken);
}

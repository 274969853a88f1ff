using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface ITagRepository
{
    Task<IReadOnlyList<Tag>> ListAsync(string resourceKind, string resourceName, string? afterKey, int limit, CancellationToken cancellationToken);

    Task<int> CountAsync(string resourceKind, string resourceName, CancellationToken cancellationToken);

    Task SetAsync(string resourceKind, string resourceName, IEnumerable<Tag> tags, CancellationToken cancellationToken);

    Task RemoveAsync(string resourceKind, string resourceName, IEnumerable<string> keys, CancellationToken cancellationToken);

    Task RemoveAllAsync(string resourceKind, string resourceName, CancellationToken cancellationToken);
}

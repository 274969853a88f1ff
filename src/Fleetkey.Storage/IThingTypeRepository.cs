using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IThingTypeRepository
{
    Task<ThingType?> GetAsync(string name, CancellationToken cancellationToken);

    Task InsertAsync(ThingType type, CancellationToken cancellationToken);

    Task UpdateAsync(ThingType type, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingType>> ListAsync(string? name, string? after, int limit, CancellationToken cancellationToken);
}

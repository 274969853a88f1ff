using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IThingRepository
{
    Task<Thing?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a new thing; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts a new thing unless its name is taken (then changes nothing and returns false), without
    /// reading first: on PostgreSQL a read of an absent name locks (SERIALIZABLE) the index page every
    /// concurrent registration of a neighbouring name writes to.
    /// </summary>
    Task<bool> TryInsertAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>Replaces type, attributes and version of an existing thing.</summary>
    Task UpdateAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>Deletes a thing with its attributes and group memberships.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Thing>> ListAsync(ThingQuery query, string? after, int limit, CancellationToken cancellationToken);

    Task<bool> AnyOfTypeAsync(string typeName, CancellationToken cancellationToken);
}

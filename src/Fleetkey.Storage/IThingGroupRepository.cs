using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IThingGroupRepository
{
    Task<ThingGroup?> GetAsync(string name, CancellationToken cancellationToken);

    Task InsertAsync(ThingGroup group, CancellationToken cancellationToken);

    Task UpdateAsync(ThingGroup group, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<bool> HasChildrenAsync(string name, CancellationToken cancellationToken);

    /// <param name="parent">Only children (or, with <paramref name="recursive"/>, descendants) of this group.</param>
    Task<IReadOnlyList<ThingGroup>> ListAsync(ThingGroup? parent, bool recursive, string? namePrefix, string? after, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingGroup>> ListForThingAsync(string thingName, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Adds a membership; returns false when the thing already was a member.</summary>
    Task<bool> AddThingAsync(string groupName, string thingName, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> RemoveThingAsync(string groupName, string thingName, CancellationToken cancellationToken);

    /// <summary>Names of things in the group (or in it and its descendants), ordered, after the key.</summary>
    Task<IReadOnlyList<string>> ListThingNamesAsync(ThingGroup group, bool recursive, string? after, int limit, CancellationToken cancellationToken);
}

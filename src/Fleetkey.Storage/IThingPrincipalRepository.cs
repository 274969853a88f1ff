using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

public interface IThingPrincipalRepository
{
    /// <summary>Attaches, or changes the attachment type of, a principal; false when nothing changed.</summary>
    Task<bool> AttachAsync(ThingPrincipal principal, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DetachAsync(string thingName, string principalKind, string principalId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingPrincipal>> ListForThingAsync(string thingName, string? afterPrincipalId, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingPrincipal>> ListForPrincipalAsync(string principalKind, string principalId, string? afterThingName, int limit, CancellationToken cancellationToken);

    Task<bool> ThingHasAnyAsync(string thingName, CancellationToken cancellationToken);
}

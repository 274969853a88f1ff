namespace Fleetkey.Storage;

public interface ICaMaterialRepository
{
    Task<StoredCaMaterial?> GetAsync(CancellationToken cancellationToken);

    /// <summary>Stores the material unless another node already did; returns false when it lost that race.</summary>
    Task<bool> TryInsertAsync(StoredCaMaterial material, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Replaces the keys of the stored CA (same certificates), e.g. once they are encrypted.</summary>
    Task<bool> UpdateKeysAsync(StoredCaMaterial material, CancellationToken cancellationToken);
}

using Fleetkey.Pki;

namespace Fleetkey.Fuzz.Tests;

/// <summary>CA material kept in memory: the fuzz targets that need a CA make one per class.</summary>
internal sealed class MemoryCaStore : ICaMaterialStore
{
    private CaMaterial? _material;

    public Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(_material);

    public Task SaveAsync(CaMaterial material, CancellationToken cancellationToken)
    {
        _material = material;
        return Task.CompletedTask;
    }
}

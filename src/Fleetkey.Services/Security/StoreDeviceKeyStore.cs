using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>The device key pool's keys in the database, so they survive restarts and every node shares them.</summary>
public sealed class StoreDeviceKeyStore(IFleetStore store, TimeProvider time) : IDeviceKeyStore
{
    public Task AddAsync(IReadOnlyList<SealedDeviceKey> keys, CancellationToken cancellationToken)
    {
        var rows = keys.Select(k => new StoredPooledKey(PkiOptions.FormatAlgorithm(k.Algorithm), k.Data, k.KekSalt)).ToList();
        return store.WriteAsync(async (session, ct) =>
        {
            await session.DeviceKeyPool.AddAsync(rows, time.GetUtcNow(), ct);
            return true;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<SealedDeviceKey>> TakeAsync(KeyAlgorithm algorithm, int count, CancellationToken cancellationToken)
    {
        var rows = await store.WriteAsync((session, ct) => session.DeviceKeyPool.TakeAsync(PkiOptions.FormatAlgorithm(algorithm), count, ct), cancellationToken);
        return rows.Select(r => new SealedDeviceKey(PkiOptions.ParseAlgorithm(r.Algorithm), r.KeyData, r.KekSalt)).ToList();
    }

    public Task<int> CountAsync(KeyAlgorithm algorithm, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.DeviceKeyPool.CountAsync(PkiOptions.FormatAlgorithm(algorithm), ct), cancellationToken);

    public Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken) =>
        store.WriteAsync((session, ct) => session.DeviceKeyPool.DeleteUnsealedAsync(ct), cancellationToken);
}

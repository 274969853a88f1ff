using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Security;

/// <summary>
/// CA material in the database, so that every node on one database signs with the same CA. When
/// two nodes start together, the first insert wins and the other node's CA is discarded: the PKI
/// reloads what is stored after saving.
/// </summary>
public sealed class StoreCaMaterialStore(IFleetStore store, TimeProvider time) : ICaMaterialStore
{
    public async Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync((session, ct) => session.CaMaterial.GetAsync(ct), cancellationToken);
        return stored is null
            ? null
            : new CaMaterial(stored.RootCertificatePem, stored.RootKeyPem, stored.IssuingCertificatePem, stored.IssuingKeyPem, stored.KeysEncrypted);
    }

    /// <summary>
    /// Saves new material, or new keys for the stored certificates. Throws <see cref="CaMaterialRaceException"/>
    /// when another node stored a different CA first: the caller loads that one instead.
    /// </summary>
    public async Task SaveAsync(CaMaterial material, CancellationToken cancellationToken)
    {
        var stored = new StoredCaMaterial(material.RootCertificatePem, material.RootKeyPem, material.IssuingCertificatePem, material.IssuingKeyPem, material.KeysEncrypted);
        var saved = await store.WriteAsync(
            async (session, ct) => await session.CaMaterial.TryInsertAsync(stored, time.GetUtcNow(), ct) || await session.CaMaterial.UpdateKeysAsync(stored, ct),
            cancellationToken);
        if (!saved)
        {
            throw new CaMaterialRaceException();
        }
    }
}

/// <summary>Another node created the CA first; load the stored one.</summary>
public sealed class CaMaterialRaceException() : Exception("Another node created the CA at the same time; the stored CA is used.");

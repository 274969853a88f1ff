using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Pki;

/// <summary>
/// Seals pre-generated device keys for storage: PKCS#8 DER, sealed by <see cref="PassphraseSealer"/>
/// (AES-256-GCM under a key derived from the CA passphrase) when there is one, in the clear otherwise,
/// like the CA keys.
/// </summary>
/// <remarks>
/// The CA keys are encrypted PKCS#8 with PBKDF2-SHA256 at 600,000 iterations, one derivation per key.
/// Done per device key, that derivation (~0.3 s) would cost as much as generating the RSA key the pool
/// exists to save, and again when the key is handed out; <see cref="PassphraseSealer"/> derives once
/// per salt instead.
/// </remarks>
internal sealed class DeviceKeySealer
{
    private readonly PassphraseSealer _sealer;

    public DeviceKeySealer(string? passphrase)
    {
        _sealer = new PassphraseSealer(passphrase);
    }

    /// <summary>Whether keys are encrypted at rest (a passphrase is configured).</summary>
    public bool Encrypts => _sealer.Encrypts;

    /// <summary>Derives this node's key-encryption key now, so the first seal does not pay for it.</summary>
    public void Warm() => _sealer.Warm();

    public SealedDeviceKey Seal(DeviceKey key)
    {
        var der = key.ExportPkcs8();
        if (!_sealer.Encrypts)
        {
            return new SealedDeviceKey(key.Algorithm, der, null);
        }

        try
        {
            var sealedKey = _sealer.Seal(der, AssociatedData(key.Algorithm));
            return new SealedDeviceKey(key.Algorithm, sealedKey.Data, sealedKey.KekSalt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>
    /// The key inside, or null when it cannot be used here: sealed under another passphrase, stored
    /// in the clear while a passphrase is configured, damaged, or not of its stated algorithm.
    /// </summary>
    public DeviceKey? Open(SealedDeviceKey sealedKey)
    {
        if ((sealedKey.KekSalt is null) == _sealer.Encrypts)
        {
            return null;
        }

        if (sealedKey.KekSalt is null)
        {
            return DeviceKey.FromPkcs8(sealedKey.Algorithm, sealedKey.Data);
        }

        var der = _sealer.Open(new SealedSecret(sealedKey.Data, sealedKey.KekSalt), AssociatedData(sealedKey.Algorithm));
        if (der is null)
        {
            return null;
        }

        try
        {
            return DeviceKey.FromPkcs8(sealedKey.Algorithm, der);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    // The algorithm is bound to the ciphertext: a row relabelled in the database fails to open.
    private static byte[] AssociatedData(KeyAlgorithm algorithm) => Encoding.ASCII.GetBytes(PkiOptions.FormatAlgorithm(algorithm));
}

/// <summary>A pre-generated device key as kept at rest (see <see cref="IDeviceKeyStore"/>).</summary>
/// <param name="Data">PKCS#8 DER, or when <paramref name="KekSalt"/> is set, that DER sealed with AES-256-GCM.</param>
public sealed record SealedDeviceKey(KeyAlgorithm Algorithm, byte[] Data, byte[]? KekSalt);

/// <summary>Where pre-generated device keys wait, across restarts and for every node on one database.</summary>
public interface IDeviceKeyStore
{
    Task AddAsync(IReadOnlyList<SealedDeviceKey> keys, CancellationToken cancellationToken);

    /// <summary>Removes and returns up to <paramref name="count"/> keys; a key is returned to one caller only, ever.</summary>
    Task<IReadOnlyList<SealedDeviceKey>> TakeAsync(KeyAlgorithm algorithm, int count, CancellationToken cancellationToken);

    Task<int> CountAsync(KeyAlgorithm algorithm, CancellationToken cancellationToken);

    /// <summary>Deletes keys stored in the clear; returns how many.</summary>
    Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken);
}

using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Fleetkey.Pki;

/// <summary>
/// Seals secrets kept at rest (pre-generated device keys, enrollment secrets and group keys) with the
/// CA passphrase when one is configured: AES-256-GCM under a key-encryption key derived from the
/// passphrase and a salt with PBKDF2-SHA256 at the CA keys' 600,000 iterations. Without a passphrase
/// secrets are kept in the clear, as the CA keys are then.
/// </summary>
/// <remarks>
/// Sealed data is <c>version (1) ‖ nonce (12) ‖ tag (16) ‖ ciphertext</c>. Deriving the key per
/// secret (~0.3 s) would make every seal and open as slow as an RSA key generation, so each instance
/// picks a random salt once, derives its key once, and seals everything under it; the salt is kept
/// next to each sealed secret, and secrets sealed by another node or an earlier start cost one
/// derivation per salt when first opened. The associated data binds a secret to what it is for
/// (a key algorithm, an enrollment's name): a value copied to another row fails to open.
/// </remarks>
public sealed class PassphraseSealer
{
    private const int SaltBytes = 16;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const byte FormatVersion = 1;
    private const int Iterations = 600_000;

    private readonly string? _passphrase;
    private readonly byte[] _salt = RandomNumberGenerator.GetBytes(SaltBytes);
    private readonly ConcurrentDictionary<string, byte[]> _keks = new(StringComparer.Ordinal);

    /// <param name="passphrase">The CA passphrase (FLEETKEY_CA_PASSPHRASE); null keeps secrets in the clear.</param>
    public PassphraseSealer(string? passphrase)
    {
        _passphrase = passphrase;
    }

    /// <summary>Whether secrets are encrypted at rest (a passphrase is configured).</summary>
    public bool Encrypts => _passphrase is not null;

    /// <summary>Derives this instance's key-encryption key now, so the first seal does not pay for it.</summary>
    public void Warm()
    {
        if (_passphrase is not null)
        {
            _ = Kek(_salt);
        }
    }

    /// <summary>
    /// The secret as it is to be stored: sealed under this instance's salt, or a copy of it in the
    /// clear (salt null) when no passphrase is configured.
    /// </summary>
    public SealedSecret Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        if (_passphrase is null)
        {
            return new SealedSecret(plaintext.ToArray(), null);
        }

        var data = new byte[1 + NonceBytes + TagBytes + plaintext.Length];
        data[0] = FormatVersion;
        var nonce = data.AsSpan(1, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(Kek(_salt), TagBytes);
        aes.Encrypt(nonce, plaintext, data.AsSpan(1 + NonceBytes + TagBytes), data.AsSpan(1 + NonceBytes, TagBytes), associatedData);
        return new SealedSecret(data, (byte[])_salt.Clone());
    }

    /// <summary>
    /// The secret inside, or null when it cannot be opened here: sealed while no passphrase is
    /// configured, sealed under another passphrase or for other associated data, or damaged. A secret
    /// stored in the clear is returned as it is. The caller owns (and should zero) the result.
    /// </summary>
    public byte[]? Open(SealedSecret sealedSecret, ReadOnlySpan<byte> associatedData)
    {
        ArgumentNullException.ThrowIfNull(sealedSecret);
        if (sealedSecret.KekSalt is null)
        {
            return (byte[])sealedSecret.Data.Clone();
        }

        var data = sealedSecret.Data;
        if (_passphrase is null || data.Length < 1 + NonceBytes + TagBytes || data[0] != FormatVersion || sealedSecret.KekSalt.Length != SaltBytes)
        {
            return null;
        }

        var plaintext = new byte[data.Length - 1 - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(Kek(sealedSecret.KekSalt), TagBytes);
            aes.Decrypt(data.AsSpan(1, NonceBytes), data.AsSpan(1 + NonceBytes + TagBytes), data.AsSpan(1 + NonceBytes, TagBytes), plaintext, associatedData);
            return plaintext;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return null;
        }
    }

    private byte[] Kek(byte[] salt) => _keks.GetOrAdd(Convert.ToHexString(salt), static (_, state) =>
        Rfc2898DeriveBytes.Pbkdf2(state.Passphrase, state.Salt, Iterations, HashAlgorithmName.SHA256, 32), (Passphrase: _passphrase!, Salt: salt));
}

/// <summary>A secret as kept at rest: in the clear when <see cref="KekSalt"/> is null, else sealed by <see cref="PassphraseSealer"/>.</summary>
public sealed record SealedSecret(byte[] Data, byte[]? KekSalt);

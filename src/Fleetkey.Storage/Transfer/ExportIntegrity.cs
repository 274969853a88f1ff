using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Storage.Transfer;

/// <summary>
/// What proves an export unchanged: the SHA-256 of every byte before its end line, and, when the
/// fleet has a CA passphrase, an HMAC-SHA256 of the same bytes. The digest catches accidental
/// damage only (anyone can compute it again after changing the file); the MAC catches deliberate
/// changes too, as computing it needs the passphrase.
/// </summary>
/// <remarks>
/// The MAC key is never the passphrase itself: PBKDF2-SHA256 stretches the passphrase with a random
/// salt kept in the export's header (at the CA keys' 600,000 iterations, so the export is no easier to
/// guess the passphrase from than the encrypted CA keys in it), and HKDF-Expand derives a key for this
/// one purpose from that, so it is unrelated to the keys that seal the CA keys and enrollment secrets.
/// </remarks>
internal sealed class ExportIntegrity : IDisposable
{
    public const string DigestAlgorithm = "sha256";
    public const string MacAlgorithm = "hmac-sha256";
    public const string KeyDerivation = "pbkdf2-sha256+hkdf-sha256";
    public const int Iterations = 600_000;

    // What an import accepts from a header: enough to refuse a weakened or absurd one (a billion
    // iterations would hold the import for an hour before the MAC could even be checked).
    public const int MinIterations = 100_000;
    public const int MaxIterations = 10_000_000;
    public const int SaltBytes = 16;
    public const int MaxSaltBytes = 64;

    private static readonly byte[] MacKeyInfo = Encoding.ASCII.GetBytes("fleetkey export mac v1");

    private readonly IncrementalHash _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash? _mac;

    private ExportIntegrity(MacParameters? mac, byte[]? key)
    {
        Mac = mac;
        if (key is not null)
        {
            _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The MAC's salt and iterations as the header records them; null when the export has no MAC.</summary>
    public MacParameters? Mac { get; }

    /// <summary>For a new export: a MAC under a fresh salt when there is a passphrase.</summary>
    public static ExportIntegrity ForExport(string? passphrase)
    {
        if (passphrase is null)
        {
            return new ExportIntegrity(null, null);
        }

        var parameters = new MacParameters(RandomNumberGenerator.GetBytes(SaltBytes), Iterations);
        return new ExportIntegrity(parameters, DeriveKey(passphrase, parameters));
    }

    /// <summary>For reading an export whose header says <paramref name="mac"/>.</summary>
    public static ExportIntegrity ForImport(MacParameters? mac, string? passphrase)
    {
        if (mac is null)
        {
            if (passphrase is not null)
            {
                // Otherwise anyone could strip the MAC from an export, change it, and recompute the digest.
                throw new TransferException(
                    "The export has no MAC: it was written without FLEETKEY_CA_PASSPHRASE, so nothing proves it unaltered. "
                    + "Export it again with FLEETKEY_CA_PASSPHRASE set, or import it with FLEETKEY_CA_PASSPHRASE unset.");
            }

            return new ExportIntegrity(null, null);
        }

        if (passphrase is null)
        {
            throw new TransferException(
                "The export carries a MAC keyed with the CA passphrase: set FLEETKEY_CA_PASSPHRASE to the passphrase of the fleet it was exported from.");
        }

        return new ExportIntegrity(mac, DeriveKey(passphrase, mac));
    }

    /// <summary>Adds bytes of the export (each line with its '\n') to the digest and the MAC.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        _digest.AppendData(bytes);
        _mac?.AppendData(bytes);
    }

    /// <summary>The digest and the MAC (null without one) of everything appended, lowercase hex.</summary>
    public (string Digest, string? Mac) Finish() =>
        (Convert.ToHexStringLower(_digest.GetHashAndReset()), _mac is null ? null : Convert.ToHexStringLower(_mac.GetHashAndReset()));

    /// <summary>Whether two hex values are equal, in time independent of where they differ.</summary>
    public static bool SameHex(string expected, string? actual) =>
        actual is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(actual));

    public void Dispose()
    {
        _digest.Dispose();
        _mac?.Dispose();
    }

    private static byte[] DeriveKey(string passphrase, MacParameters parameters)
    {
        var stretched = Rfc2898DeriveBytes.Pbkdf2(passphrase, parameters.Salt, parameters.Iterations, HashAlgorithmName.SHA256, 32);
        try
        {
            return HKDF.Expand(HashAlgorithmName.SHA256, stretched, 32, MacKeyInfo);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(stretched);
        }
    }
}

/// <summary>How an export's MAC key is derived from the CA passphrase: the salt and PBKDF2 iterations.</summary>
internal sealed record MacParameters(byte[] Salt, int Iterations);

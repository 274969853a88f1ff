using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>CA private keys as PEM: PKCS#8, encrypted with the CA passphrase when there is one.</summary>
public static class CaKeyPem
{
    public const string EncryptedLabel = "ENCRYPTED PRIVATE KEY";

    // PBKDF2-SHA256 at OWASP's 2023 iteration count, AES-256-CBC: what `openssl pkcs8 -topk8 -v2 aes-256-cbc` reads.
    private static readonly PbeParameters Encryption = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000);

    public static bool IsEncrypted(string keyPem) => Pem.FirstLabel(keyPem) == EncryptedLabel;

    public static string Export(AsymmetricAlgorithm key, string? passphrase) =>
        passphrase is null ? key.ExportPkcs8PrivateKeyPem() : key.ExportEncryptedPkcs8PrivateKeyPem(passphrase, Encryption);

    /// <summary>
    /// Imports the private key of <paramref name="certificate"/> and checks that it is that
    /// certificate's key. Messages name the key (<paramref name="role"/>), never its content.
    /// </summary>
    public static AsymmetricAlgorithm Import(X509Certificate2 certificate, string keyPem, string? passphrase, string role)
    {
        AsymmetricAlgorithm key = certificate.GetKeyAlgorithm() switch
        {
            "1.2.840.113549.1.1.1" => RSA.Create(),
            "1.2.840.10045.2.1" => ECDsa.Create(),
            var other => throw new InvalidOperationException($"The {role} certificate has a key of algorithm {other}; Fleetkey supports RSA and EC CA keys."),
        };

        try
        {
            if (IsEncrypted(keyPem))
            {
                if (passphrase is null)
                {
                    throw new PkiException(PkiError.CaLocked, "The CA private keys are stored encrypted and no CA passphrase is configured.");
                }

                try
                {
                    key.ImportFromEncryptedPem(keyPem, passphrase);
                }
                catch (CryptographicException)
                {
                    throw new PkiException(PkiError.CaLocked, $"The configured CA passphrase does not decrypt the {role} private key (a wrong passphrase, or a damaged key).");
                }
                catch (Exception e) when (IsDamagedKey(e))
                {
                    throw new InvalidOperationException($"The {role} private key decrypts but is not a readable private key: it is damaged.");
                }
            }
            else
            {
                try
                {
                    key.ImportFromPem(keyPem);
                }
                catch (Exception e) when (e is CryptographicException || IsDamagedKey(e))
                {
                    throw new InvalidOperationException($"The {role} private key is not a readable PEM private key.");
                }
            }

            if (!key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(certificate.PublicKey.ExportSubjectPublicKeyInfo()))
            {
                throw new InvalidOperationException($"The {role} private key does not belong to the {role} certificate.");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    // A damaged key reaches the platform's importer, which fails in more ways than CryptographicException:
    // one changed byte in an EC key's curve OID gives PlatformNotSupportedException (it stopped `serve`
    // with a stack trace), a changed length can give ArgumentException or OverflowException.
    private static bool IsDamagedKey(Exception exception) =>
        exception is ArgumentException or NotSupportedException or FormatException or OverflowException or System.Formats.Asn1.AsnContentException;
}

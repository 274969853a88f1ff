using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>
/// A device key pair as CreateKeysAndCertificate hands it out: the public key its certificate is
/// issued for, and the private key, once, as PEM. Fleetkey never signs with a device key.
/// </summary>
/// <remarks>
/// An RSA key is kept as its PKCS#1 DER and read without a crypto provider: loading an RSA private key
/// into OpenSSL checks it, which costs ~0.6 ms of CPU (more than issuing its certificate with an EC
/// CA), and a burst served from the key pool would pay that for every key. Reading it here checks the
/// same relations between its numbers, except that p and q are prime (which only its generator knows):
/// n = p·q of 2,048 bits, e·d ≡ 1 modulo p−1 and q−1, and the CRT values. An EC key is cheap to load
/// and is kept loaded.
/// </remarks>
public sealed class DeviceKey : IDisposable
{
    private const int RsaModulusBits = 2048;

    private readonly ECDsa? _ec;
    private readonly byte[]? _rsaPrivateKey;
    private bool _disposed;

    private DeviceKey(KeyAlgorithm algorithm, PublicKey publicKey, ECDsa? ec, byte[]? rsaPrivateKey)
    {
        Algorithm = algorithm;
        PublicKey = publicKey;
        _ec = ec;
        _rsaPrivateKey = rsaPrivateKey;
    }

    public KeyAlgorithm Algorithm { get; }

    public PublicKey PublicKey { get; }

    /// <summary>Generates a key of <paramref name="algorithm"/>.</summary>
    public static DeviceKey Generate(KeyAlgorithm algorithm)
    {
        var key = Keys.Generate(algorithm);
        if (key is ECDsa ec)
        {
            return new DeviceKey(algorithm, new PublicKey(ec), ec, null);
        }

        using (key)
        {
            var pkcs1 = ((RSA)key).ExportRSAPrivateKey();
            return FromRsaPrivateKey(pkcs1) ?? throw new CryptographicException("The generated RSA key could not be read back.");
        }
    }

    /// <summary>
    /// The key in a PKCS#8 PrivateKeyInfo (as <see cref="ExportPkcs8"/> writes it), or null when it is
    /// not a consistent key of <paramref name="algorithm"/>.
    /// </summary>
    public static DeviceKey? FromPkcs8(KeyAlgorithm algorithm, byte[] pkcs8)
    {
        ArgumentNullException.ThrowIfNull(pkcs8);
        return algorithm switch
        {
            KeyAlgorithm.Rsa2048 => FromRsaPkcs8(pkcs8),
            KeyAlgorithm.EcP256 => FromEcPkcs8(algorithm, pkcs8, 256),
            KeyAlgorithm.EcP384 => FromEcPkcs8(algorithm, pkcs8, 384),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key algorithm."),
        };
    }

    /// <summary>The private key as PKCS#8 DER; the caller zeroes it when done.</summary>
    public byte[] ExportPkcs8()
    {
        ThrowIfDisposed();
        if (_ec is not null)
        {
            return _ec.ExportPkcs8PrivateKey();
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        try
        {
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
                WriteRsaAlgorithmIdentifier(writer);
                writer.WriteOctetString(_rsaPrivateKey);
            }

            return writer.Encode();
        }
        finally
        {
            // Clears the writer's buffer, which held the private key.
            writer.Reset();
        }
    }

    /// <summary>
    /// The private key PEM the AWS SDKs hand out for CreateKeysAndCertificate: PKCS#1 ("RSA PRIVATE KEY")
    /// for RSA and SEC 1 ("EC PRIVATE KEY") for EC, not PKCS#8, so device code written against AWS reads it unchanged.
    /// </summary>
    public string ExportPrivateKeyPem()
    {
        ThrowIfDisposed();
        return _ec is not null ? _ec.ExportECPrivateKeyPem() : PemEncoding.WriteString("RSA PRIVATE KEY", _rsaPrivateKey);
    }

    public void Dispose()
    {
        _ec?.Dispose();
        if (_rsaPrivateKey is not null)
        {
            CryptographicOperations.ZeroMemory(_rsaPrivateKey);
        }

        _disposed = true;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static DeviceKey? FromEcPkcs8(KeyAlgorithm algorithm, byte[] pkcs8, int keySize)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read == pkcs8.Length && ec.KeySize == keySize)
            {
                return new DeviceKey(algorithm, new PublicKey(ec), ec, null);
            }
        }
        catch (CryptographicException)
        {
        }

        ec.Dispose();
        return null;
    }

    // PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier { rsaEncryption, NULL }, OCTET STRING RSAPrivateKey }
    private static DeviceKey? FromRsaPkcs8(byte[] pkcs8)
    {
        try
        {
            var reader = new AsnReader(pkcs8, AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            if (reader.HasData || !info.TryReadInt32(out var version) || version != 0)
            {
                return null;
            }

            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Certificates.RsaEncryptionOid)
            {
                return null;
            }

            algorithm.ReadNull();
            algorithm.ThrowIfNotEmpty();
            var privateKey = info.ReadOctetString();
            try
            {
                return info.HasData ? null : FromRsaPrivateKey(privateKey);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(privateKey);
            }
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    // RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, d mod (p-1), d mod (q-1), q^-1 mod p } (RFC 8017 A.1.2)
    private static DeviceKey? FromRsaPrivateKey(byte[] pkcs1)
    {
        var reader = new AsnReader(pkcs1, AsnEncodingRules.DER);
        var key = reader.ReadSequence();
        if (reader.HasData || !key.TryReadInt32(out var version) || version != 0)
        {
            return null;
        }

        var modulusBytes = key.ReadIntegerBytes();
        var exponentBytes = key.ReadIntegerBytes();
        var n = ToInteger(modulusBytes);
        var e = ToInteger(exponentBytes);
        var d = key.ReadInteger();
        var p = key.ReadInteger();
        var q = key.ReadInteger();
        var dp = key.ReadInteger();
        var dq = key.ReadInteger();
        var qInverse = key.ReadInteger();
        if (key.HasData)
        {
            return null;
        }

        var consistent = n.Sign > 0 && n.GetBitLength() == RsaModulusBits && e > 1 && !e.IsEven
            && p > 1 && q > 1 && p * q == n
            && d > 0 && d < n
            && (e * d) % (p - 1) == 1 && (e * d) % (q - 1) == 1
            && dp == d % (p - 1) && dq == d % (q - 1)
            && qInverse > 0 && qInverse < p && (qInverse * q) % p == 1;
        if (!consistent)
        {
            return null;
        }

        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(RsaSubjectPublicKeyInfo(modulusBytes.Span, exponentBytes.Span), out _);
        return new DeviceKey(KeyAlgorithm.Rsa2048, publicKey, null, (byte[])pkcs1.Clone());
    }

    // SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier { rsaEncryption, NULL }, BIT STRING RSAPublicKey { n, e } }
    private static byte[] RsaSubjectPublicKeyInfo(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        var rsaPublicKey = new AsnWriter(AsnEncodingRules.DER);
        using (rsaPublicKey.PushSequence())
        {
            rsaPublicKey.WriteInteger(modulus);
            rsaPublicKey.WriteInteger(exponent);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            WriteRsaAlgorithmIdentifier(writer);
            writer.WriteBitString(rsaPublicKey.Encode());
        }

        return writer.Encode();
    }

    private static void WriteRsaAlgorithmIdentifier(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(Certificates.RsaEncryptionOid);
            writer.WriteNull();
        }
    }

    private static BigInteger ToInteger(ReadOnlyMemory<byte> twosComplement) => new(twosComplement.Span, isUnsigned: false, isBigEndian: true);
}

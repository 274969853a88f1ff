using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using Xunit;

namespace Fleetkey.Pki.Tests;

public sealed class DeviceKeyTests
{
    // One RSA key for the whole class: generating one costs ~0.2 s.
    private static readonly Lazy<byte[]> RsaPkcs8 = new(() =>
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKey();
    });

    [Fact]
    public void Rsa_FromOpenSslPkcs8_ReadsTheSameKeyWithoutACryptoProvider()
    {
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(RsaPkcs8.Value, out _);

        using var key = DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8.Value);

        Assert.NotNull(key);
        Assert.Equal(KeyAlgorithm.Rsa2048, key.Algorithm);
        Assert.Equal(rsa.ExportSubjectPublicKeyInfo(), key.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(rsa.ExportRSAPrivateKeyPem(), key.ExportPrivateKeyPem());
        Assert.Equal(RsaPkcs8.Value, key.ExportPkcs8());
    }

    [Fact]
    public void Rsa_PemAndPublicKey_AreOneKeyPair()
    {
        using var key = DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8.Value);
        Assert.NotNull(key);
        var pem = key.ExportPrivateKeyPem();
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", pem, StringComparison.Ordinal);

        // What a device does with them: sign with the PEM, verified with the certificate's public key.
        using var device = RSA.Create();
        device.ImportFromPem(pem);
        var data = "hello"u8.ToArray();
        var signature = device.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var verifier = key.PublicKey.GetRSAPublicKey()!;
        Assert.True(verifier.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [InlineData(KeyAlgorithm.Rsa2048)]
    [InlineData(KeyAlgorithm.EcP256)]
    [InlineData(KeyAlgorithm.EcP384)]
    public void Generate_RoundTripsThroughPkcs8(KeyAlgorithm algorithm)
    {
        using var key = DeviceKey.Generate(algorithm);
        var pkcs8 = key.ExportPkcs8();

        using var read = DeviceKey.FromPkcs8(algorithm, pkcs8);

        Assert.NotNull(read);
        Assert.Equal(key.PublicKey.ExportSubjectPublicKeyInfo(), read.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(key.ExportPrivateKeyPem(), read.ExportPrivateKeyPem());
        var label = algorithm == KeyAlgorithm.Rsa2048 ? "RSA PRIVATE KEY" : "EC PRIVATE KEY";
        Assert.StartsWith($"-----BEGIN {label}-----", key.ExportPrivateKeyPem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rsa_InconsistentNumbers_AreRefused()
    {
        var fields = RsaFields(RsaPkcs8.Value);

        // Each of n, e, d, p, q, dp, dq, qInv off by one (a damaged row in the database).
        for (var i = 1; i < fields.Length; i++)
        {
            var damaged = (BigInteger[])fields.Clone();
            damaged[i] += 2;
            Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8Of(damaged)));
        }

        Assert.NotNull(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8Of(fields)));
    }

    [Fact]
    public void FromPkcs8_WrongSizeAlgorithmOrEncoding_IsRefused()
    {
        using var small = RSA.Create(1024);
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, small.ExportPkcs8PrivateKey()));

        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, ec.ExportPkcs8PrivateKey()));
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.EcP384, ec.ExportPkcs8PrivateKey()));
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.EcP256, RsaPkcs8.Value));

        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8.Value[..^1]));
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, [.. RsaPkcs8.Value, 0]));
        Assert.Null(DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, []));
    }

    [Fact]
    public void Dispose_RefusesExports()
    {
        var key = DeviceKey.FromPkcs8(KeyAlgorithm.Rsa2048, RsaPkcs8.Value)!;

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.ExportPrivateKeyPem());
        Assert.Throws<ObjectDisposedException>(() => key.ExportPkcs8());
    }

    // n, e, d, p, q, dp, dq, qInv after the version.
    private static BigInteger[] RsaFields(byte[] pkcs8)
    {
        var info = new AsnReader(pkcs8, AsnEncodingRules.DER).ReadSequence();
        info.ReadInteger();
        info.ReadSequence();
        var key = new AsnReader(info.ReadOctetString(), AsnEncodingRules.DER).ReadSequence();
        return [.. Enumerable.Range(0, 9).Select(_ => key.ReadInteger())];
    }

    private static byte[] RsaPkcs8Of(BigInteger[] fields)
    {
        var pkcs1 = new AsnWriter(AsnEncodingRules.DER);
        using (pkcs1.PushSequence())
        {
            foreach (var field in fields)
            {
                pkcs1.WriteInteger(field);
            }
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.1.1");
                writer.WriteNull();
            }

            writer.WriteOctetString(pkcs1.Encode());
        }

        return writer.Encode();
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>Key generation and the PEM forms Fleetkey writes keys in.</summary>
internal static class Keys
{
    public static AsymmetricAlgorithm Generate(KeyAlgorithm algorithm)
    {
        AsymmetricAlgorithm key = algorithm switch
        {
            KeyAlgorithm.EcP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            KeyAlgorithm.EcP384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            KeyAlgorithm.Rsa2048 => RSA.Create(2048),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown key algorithm."),
        };

        // RSA.Create(2048) only records the size: the key is generated on first use. Use it now, so
        // that the cost is paid here (on the pool's thread) and not by whoever takes the key.
        _ = key.ExportSubjectPublicKeyInfo();
        return key;
    }

    /// <summary>A second instance of the same key, for callers that must not share one instance across threads.</summary>
    public static AsymmetricAlgorithm Clone(AsymmetricAlgorithm key)
    {
        switch (key)
        {
            case RSA rsa:
            {
                var clone = RSA.Create();
                clone.ImportParameters(rsa.ExportParameters(includePrivateParameters: true));
                return clone;
            }

            case ECDsa ec:
            {
                var clone = ECDsa.Create();
                clone.ImportParameters(ec.ExportParameters(includePrivateParameters: true));
                return clone;
            }

            default:
                throw new ArgumentException("Unsupported key type.", nameof(key));
        }
    }

    /// <summary>SHA-256 signatures, PKCS#1 v1.5 for RSA: what every TLS stack and AWS accept.</summary>
    public static X509SignatureGenerator CreateSignatureGenerator(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        _ => throw new ArgumentException("Unsupported key type.", nameof(key)),
    };
}

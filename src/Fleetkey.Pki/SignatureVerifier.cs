using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>Verifies a certificate's signature with a given issuer key, reading the TBS and signature from the DER.</summary>
internal static class SignatureVerifier
{
    public static bool Verify(ReadOnlyMemory<byte> certificateDer, X509Certificate2 issuer)
    {
        ReadOnlyMemory<byte> tbs;
        ReadOnlyMemory<byte> outerAlgorithm;
        byte[] signature;
        string algorithmOid;
        bool hasParameters;
        try
        {
            // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
            var certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
            tbs = certificate.ReadEncodedValue();
            outerAlgorithm = certificate.ReadEncodedValue();
            signature = certificate.ReadBitString(out var unusedBits);
            if (unusedBits != 0 || certificate.HasData)
            {
                return false;
            }

            // RFC 5280 4.1.1.2: the algorithm inside the signed part must be the one outside it.
            var tbsReader = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
            if (tbsReader.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                tbsReader.ReadEncodedValue();
            }

            tbsReader.ReadEncodedValue();
            if (!tbsReader.ReadEncodedValue().Span.SequenceEqual(outerAlgorithm.Span))
            {
                return false;
            }

            var algorithm = new AsnReader(outerAlgorithm, AsnEncodingRules.DER).ReadSequence();
            algorithmOid = algorithm.ReadObjectIdentifier();
            hasParameters = algorithm.HasData;
            if (hasParameters)
            {
                algorithm.ReadNull();
                hasParameters = algorithm.HasData;
            }
        }
        catch (AsnContentException)
        {
            return false;
        }

        try
        {
            switch (algorithmOid)
            {
                case "1.2.840.113549.1.1.11":
                    return !hasParameters && VerifyRsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA256);
                case "1.2.840.113549.1.1.12":
                    return !hasParameters && VerifyRsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA384);
                case "1.2.840.113549.1.1.13":
                    return !hasParameters && VerifyRsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA512);
                case "1.2.840.10045.4.3.2":
                    return !hasParameters && VerifyEcdsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA256);
                case "1.2.840.10045.4.3.3":
                    return !hasParameters && VerifyEcdsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA384);
                case "1.2.840.10045.4.3.4":
                    return !hasParameters && VerifyEcdsa(issuer, tbs.Span, signature, HashAlgorithmName.SHA512);
                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            // An issuer key of another kind, or one the platform cannot read.
            return false;
        }
    }

    private static bool VerifyRsa(X509Certificate2 issuer, ReadOnlySpan<byte> data, byte[] signature, HashAlgorithmName hash)
    {
        using var rsa = issuer.GetRSAPublicKey();
        return rsa is not null && rsa.VerifyData(data, signature, hash, RSASignaturePadding.Pkcs1);
    }

    private static bool VerifyEcdsa(X509Certificate2 issuer, ReadOnlySpan<byte> data, byte[] signature, HashAlgorithmName hash)
    {
        using var ecdsa = issuer.GetECDsaPublicKey();
        return ecdsa is not null && ecdsa.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }
}

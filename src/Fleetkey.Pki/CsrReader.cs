using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>
/// Reads a PKCS#10 request and keeps only what Fleetkey takes from it: the subject and the public
/// key, after checking the key is one AWS accepts and that the requester holds its private key.
/// </summary>
internal static class CsrReader
{
    private const string RsaEncryption = "1.2.840.113549.1.1.1";
    private const string RsaPss = "1.2.840.113549.1.1.10";
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const int MinRsaBits = 2048;

    // A sanity bound, not a policy: larger keys only make verification slow.
    private const int MaxRsaBits = 16384;

    private static readonly Dictionary<string, string> AcceptedCurves = new(StringComparer.Ordinal)
    {
        ["1.2.840.10045.3.1.7"] = "P-256",
        ["1.3.132.0.34"] = "P-384",
        ["1.3.132.0.35"] = "P-521",
    };

    // The signature algorithms AWS IoT lists for CSRs; RSASSA-PSS is checked on its own.
    private static readonly Dictionary<string, string> AcceptedSignatures = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.11"] = "sha256WithRSAEncryption",
        ["1.2.840.113549.1.1.12"] = "sha384WithRSAEncryption",
        ["1.2.840.113549.1.1.13"] = "sha512WithRSAEncryption",
        ["1.2.840.10045.4.3.2"] = "ecdsa-with-SHA256",
        ["1.2.840.10045.4.3.3"] = "ecdsa-with-SHA384",
        ["1.2.840.10045.4.3.4"] = "ecdsa-with-SHA512",
    };

    public static (X500DistinguishedName Subject, PublicKey PublicKey) Read(string csrPem)
    {
        ArgumentNullException.ThrowIfNull(csrPem);
        var der = ReadDer(csrPem);

        // Parse without the signature check first so that a malformed request, an unacceptable key
        // and a bad signature each get their own error.
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequest(
                der, HashAlgorithmName.SHA256, out var consumed, CertificateRequestLoadOptions.SkipSignatureValidation, RSASignaturePadding.Pkcs1);
            if (consumed != der.Length)
            {
                throw Invalid("The CSR has data after its end.");
            }
        }
        catch (CryptographicException)
        {
            throw Invalid("The CSR is not a valid PKCS#10 certificate request.");
        }

        CheckKey(request.PublicKey);
        CheckSignatureAlgorithm(der);

        try
        {
            // Default options verify the request's self-signature with its own public key (proof of
            // possession). The padding argument is only what a later self-sign would use; the
            // verification reads the padding (PKCS#1 or PSS) from the request itself.
            _ = CertificateRequest.LoadSigningRequest(der, HashAlgorithmName.SHA256, out _, CertificateRequestLoadOptions.Default, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            throw new PkiException(PkiError.CsrSignatureInvalid, "The CSR's signature does not verify with its public key.");
        }

        return (request.SubjectName, request.PublicKey);
    }

    private static byte[] ReadDer(string csrPem)
    {
        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.ReadAll(csrPem);
        }
        catch (FormatException)
        {
            throw Invalid("The CSR is not valid PEM.");
        }

        var requests = blocks.Where(b => b.Label is "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST").ToList();
        return requests.Count switch
        {
            1 => requests[0].Der,
            0 => throw Invalid("No PEM \"CERTIFICATE REQUEST\" block found."),
            _ => throw Invalid("More than one certificate request in the PEM."),
        };
    }

    private static void CheckKey(PublicKey key)
    {
        var oid = key.Oid.Value;
        try
        {
            if (oid == RsaEncryption)
            {
                using var rsa = key.GetRSAPublicKey() ?? throw Invalid("The CSR's RSA public key cannot be read.");
                if (rsa.KeySize < MinRsaBits)
                {
                    throw Unsupported($"RSA key of {rsa.KeySize} bits: at least {MinRsaBits} are required.");
                }

                if (rsa.KeySize > MaxRsaBits)
                {
                    throw Unsupported($"RSA key of {rsa.KeySize} bits: at most {MaxRsaBits} are accepted.");
                }

                return;
            }

            if (oid == EcPublicKey)
            {
                var curve = key.EncodedParameters?.RawData is { } parameters ? ReadNamedCurve(parameters) : null;
                if (curve is null)
                {
                    throw Unsupported("EC key with explicit curve parameters: a named curve (P-256, P-384 or P-521) is required.");
                }

                if (!AcceptedCurves.ContainsKey(curve))
                {
                    throw Unsupported($"EC key on curve {Describe(curve)}: P-256, P-384 or P-521 is required.");
                }

                return;
            }
        }
        catch (CryptographicException)
        {
            throw Invalid("The CSR's public key cannot be read.");
        }

        throw Unsupported($"{Describe(oid)} key: RSA (at least {MinRsaBits} bits) or EC P-256, P-384 or P-521 is required.");
    }

    private static string? ReadNamedCurve(byte[] parameters)
    {
        try
        {
            var reader = new AsnReader(parameters, AsnEncodingRules.DER);
            return reader.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier) ? reader.ReadObjectIdentifier() : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static void CheckSignatureAlgorithm(byte[] der)
    {
        string oid;
        ReadOnlyMemory<byte>? parameters;
        try
        {
            // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
            var request = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
            request.ReadEncodedValue();
            var algorithm = request.ReadSequence();
            oid = algorithm.ReadObjectIdentifier();
            parameters = algorithm.HasData ? algorithm.ReadEncodedValue() : null;
        }
        catch (AsnContentException)
        {
            throw Invalid("The CSR is not a valid PKCS#10 certificate request.");
        }

        if (AcceptedSignatures.ContainsKey(oid))
        {
            return;
        }

        if (oid == RsaPss)
        {
            CheckPssParameters(parameters);
            return;
        }

        throw Invalid($"The CSR is signed with {Describe(oid)}: a SHA-256, SHA-384 or SHA-512 RSA or ECDSA signature is required.");
    }

    /// <summary>
    /// .NET verifies RSASSA-PSS only with MGF1 over the message hash and a salt as long as the hash
    /// (what most signers produce, but not `openssl req` by default, which uses the longest salt).
    /// Other parameters are refused here with that reason, rather than reported as a bad signature.
    /// </summary>
    private static void CheckPssParameters(ReadOnlyMemory<byte>? parameters)
    {
        const string Sha1 = "1.3.14.3.2.26";
        const string Mgf1 = "1.2.840.113549.1.1.8";
        var hash = Sha1;
        var mgfHash = Sha1;
        var saltLength = 20;
        if (parameters is not { } encoded)
        {
            throw Invalid("The CSR's RSA-PSS signature has no parameters.");
        }

        try
        {
            // RSASSA-PSS-params ::= SEQUENCE { [0] hashAlgorithm, [1] maskGenAlgorithm, [2] saltLength, [3] trailerField }, all with defaults.
            var pss = new AsnReader(encoded, AsnEncodingRules.DER).ReadSequence();
            if (TryReadExplicit(pss, 0) is { } hashAlgorithm)
            {
                hash = hashAlgorithm.ReadSequence().ReadObjectIdentifier();
            }

            if (TryReadExplicit(pss, 1) is { } maskAlgorithm)
            {
                var mgf = maskAlgorithm.ReadSequence();
                if (mgf.ReadObjectIdentifier() != Mgf1)
                {
                    throw Invalid("The CSR's RSA-PSS signature uses a mask generation function other than MGF1.");
                }

                mgfHash = mgf.ReadSequence().ReadObjectIdentifier();
            }

            if (TryReadExplicit(pss, 2) is { } salt && !salt.TryReadInt32(out saltLength))
            {
                saltLength = -1;
            }

            if (TryReadExplicit(pss, 3) is { } trailerField && (!trailerField.TryReadInt32(out var trailer) || trailer != 1))
            {
                throw Invalid("The CSR's RSA-PSS signature has an unknown trailer field.");
            }
        }
        catch (AsnContentException)
        {
            throw Invalid("The CSR's RSA-PSS signature parameters cannot be read.");
        }

        var hashLength = hash switch
        {
            "2.16.840.1.101.3.4.2.1" => 32,
            "2.16.840.1.101.3.4.2.2" => 48,
            "2.16.840.1.101.3.4.2.3" => 64,
            _ => throw Invalid($"The CSR's RSA-PSS signature uses {Describe(hash)}: SHA-256, SHA-384 or SHA-512 is required."),
        };

        if (mgfHash != hash)
        {
            throw Invalid("The CSR's RSA-PSS signature uses an MGF1 hash other than its message hash; Fleetkey verifies RSA-PSS only with the same hash for both.");
        }

        if (saltLength != hashLength)
        {
            throw Invalid(
                $"The CSR's RSA-PSS signature uses a salt of {saltLength} bytes; Fleetkey verifies RSA-PSS only with a salt as long as the hash " +
                $"({hashLength} bytes; openssl: -sigopt rsa_pss_saltlen:digest), or PKCS#1 v1.5 signatures.");
        }
    }

    private static AsnReader? TryReadExplicit(AsnReader reader, int tagValue)
    {
        var tag = new Asn1Tag(TagClass.ContextSpecific, tagValue, isConstructed: true);
        return reader.HasData && reader.PeekTag().HasSameClassAndValue(tag) ? reader.ReadSequence(tag) : null;
    }

    private static string Describe(string? oid) =>
        oid is null ? "an unknown algorithm" : FriendlyName(oid) ?? oid;

    private static string? FriendlyName(string oid)
    {
        try
        {
            return Oid.FromOidValue(oid, OidGroup.All).FriendlyName;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static PkiException Invalid(string message) => new(PkiError.InvalidCsr, message);

    private static PkiException Unsupported(string message) => new(PkiError.UnsupportedKey, message);
}

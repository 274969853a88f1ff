using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>Reads certificates presented to Fleetkey (for registration) and answers questions about them.</summary>
public static class CertificateInspector
{
    /// <summary>Lowercase hex SHA-256 of the DER encoding: the AWS certificate id.</summary>
    public static string CertificateId(ReadOnlySpan<byte> der) => Convert.ToHexStringLower(SHA256.HashData(der));

    /// <summary>Parses one PEM certificate; throws <see cref="PkiException"/> (InvalidCertificate).</summary>
    /// <remarks>
    /// The PEM must hold exactly one block, a CERTIFICATE: a chain or a key pasted along with it is
    /// refused rather than silently cut down to its first certificate.
    /// </remarks>
    public static ParsedCertificate Parse(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.ReadAll(pem);
        }
        catch (FormatException)
        {
            throw Invalid("The certificate is not valid PEM.");
        }

        if (blocks.Count == 0)
        {
            throw Invalid("No PEM \"CERTIFICATE\" block found.");
        }

        if (blocks.Count > 1 || blocks[0].Label != "CERTIFICATE")
        {
            throw Invalid("Exactly one PEM \"CERTIFICATE\" block is expected.");
        }

        var der = blocks[0].Der;
        X509Certificate2 certificate;
        try
        {
            // The loader would accept trailing bytes; the id is the hash of the DER, so it must be exactly one value.
            AsnDecoder.ReadEncodedValue(der, AsnEncodingRules.DER, out _, out _, out var consumed);
            if (consumed != der.Length)
            {
                throw Invalid("The certificate has data after its end.");
            }

            certificate = X509CertificateLoader.LoadCertificate(der);
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            throw Invalid("The PEM does not hold a valid X.509 certificate.");
        }

        try
        {
            // The loader decodes lazily: a validity that is not a date, or a damaged extension, fails
            // only when read (the export fuzz target found a notBefore of letters), so read it all here.
            var basicConstraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
            return new ParsedCertificate(
                CertificateId(der),
                certificate.ExportCertificatePem() + "\n",
                certificate.Subject,
                certificate.Issuer,
                ToUtc(certificate.NotBefore),
                ToUtc(certificate.NotAfter),
                basicConstraints?.CertificateAuthority ?? false,
                certificate,
                SerialNumber(certificate));
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException or ArgumentException)
        {
            certificate.Dispose();
            throw Invalid("The PEM does not hold a valid X.509 certificate.");
        }
    }

    /// <summary>Whether <paramref name="certificate"/>'s signature verifies with <paramref name="issuer"/>'s key and names it as issuer.</summary>
    /// <remarks>
    /// This checks the one signature directly (RSA PKCS#1 v1.5 or ECDSA, with SHA-256, SHA-384 or
    /// SHA-512) rather than building an <see cref="X509Chain"/>: a chain answers a different question
    /// (validity dates, key usages, revocation, a path to a trust anchor), differs between platforms
    /// when the anchor is not self-signed, and may fetch intermediates over the network. Registering
    /// an expired certificate must still tell whether a given CA signed it. Other signature
    /// algorithms (SHA-1, RSA-PSS) answer false.
    /// </remarks>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        return NamesMatch(certificate.IssuerName, issuer.SubjectName) && SignatureVerifier.Verify(certificate.RawDataMemory, issuer);
    }

    /// <summary>
    /// A serial number as Fleetkey stores and looks it up: lowercase hex of the DER INTEGER's content
    /// octets (big-endian two's complement, minimal, so a leading 00 stays when the high bit is set).
    /// </summary>
    public static string SerialNumber(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SerialNumber(certificate.SerialNumberBytes.Span);
    }

    /// <inheritdoc cref="SerialNumber(X509Certificate2)"/>
    public static string SerialNumber(ReadOnlySpan<byte> integerContent) => Convert.ToHexStringLower(integerContent);

    internal static DateTimeOffset ToUtc(DateTime value) => new(value.ToUniversalTime(), TimeSpan.Zero);

    private static bool NamesMatch(X500DistinguishedName issuerName, X500DistinguishedName subjectName) =>
        issuerName.RawData.AsSpan().SequenceEqual(subjectName.RawData)

        // The same name may be encoded differently (PrintableString or UTF8String); compare the decoded form too.
        || string.Equals(issuerName.Name, subjectName.Name, StringComparison.OrdinalIgnoreCase);

    private static PkiException Invalid(string message) => new(PkiError.InvalidCertificate, message);
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Pki;

/// <summary>Pieces every certificate Fleetkey makes shares.</summary>
internal static class Certificates
{
    /// <summary>How far NotBefore is set back, so a device whose clock runs a little slow accepts a new certificate.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    public const string RsaEncryptionOid = "1.2.840.113549.1.1.1";

    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "TLS Web Client Authentication");
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "TLS Web Server Authentication");

    /// <summary>Now, to the second: X.509 times have no fractions, and what Fleetkey reports must equal what it signed.</summary>
    public static DateTimeOffset Now(TimeProvider time) => DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());

    /// <summary>"CN=<paramref name="commonName"/>, O=Fleetkey", built so that no character of the name can add an attribute.</summary>
    public static X500DistinguishedName Name(string commonName)
    {
        var builder = new X500DistinguishedNameBuilder();
        // The builder encodes the last attribute added first: this yields O then CN in the DER.
        builder.AddCommonName(commonName);
        builder.AddOrganizationName("Fleetkey");
        return builder.Build();
    }

    public static CertificateRequest NewRequest(X500DistinguishedName subject, AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
        _ => throw new ArgumentException("Unsupported key type.", nameof(key)),
    };

    /// <summary>
    /// 16 random bytes, positive, first byte never zero: 127 bits of entropy in a fixed-length
    /// serial (CA/Browser Forum asks for at least 64).
    /// </summary>
    public static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        if (serial[0] == 0)
        {
            serial[0] = 0x01;
        }

        return serial;
    }
}

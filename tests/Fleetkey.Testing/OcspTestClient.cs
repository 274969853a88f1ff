using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Ocsp;
using Org.BouncyCastle.X509;
using BcExtension = Org.BouncyCastle.Asn1.X509.X509Extension;

namespace Fleetkey.Testing;

/// <summary>
/// An OCSP client made with BouncyCastle, independent of the responder's own ASN.1 code: it builds
/// requests as clients do and reads (and verifies) what Fleetkey answers.
/// </summary>
public static class OcspTestClient
{
    public static AlgorithmIdentifier Sha1 { get; } = new(OiwObjectIdentifiers.IdSha1, DerNull.Instance);

    public static AlgorithmIdentifier Sha256 { get; } = new(NistObjectIdentifiers.IdSha256);

    /// <summary>A request for the certificates of <paramref name="issuer"/> with these serial numbers (hex), with a nonce (its value) when given.</summary>
    public static byte[] Request(X509Certificate2 issuer, IEnumerable<string> serialNumbers, byte[]? nonce = null, AlgorithmIdentifier? hash = null)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var issuerCertificate = new X509CertificateParser().ReadCertificate(issuer.RawData);
        var generator = new OcspReqGenerator();
        foreach (var serial in serialNumbers)
        {
            generator.AddRequest(new CertificateID(hash ?? Sha1, issuerCertificate, new BigInteger(serial, 16)));
        }

        if (nonce is not null)
        {
            generator.SetRequestExtensions(new X509Extensions(new Dictionary<DerObjectIdentifier, BcExtension>
            {
                [OcspObjectIdentifiers.PkixOcspNonce] = new BcExtension(false, new DerOctetString(new DerOctetString(nonce))),
            }));
        }

        return generator.Generate().GetEncoded();
    }

    public static byte[] Request(X509Certificate2 issuer, string serialNumber, byte[]? nonce = null) => Request(issuer, [serialNumber], nonce);

    /// <summary>The response's status, and its basic response when successful (its signature checked against the certificate it carries).</summary>
    public static OcspReply Read(byte[] response)
    {
        var parsed = new OcspResp(response);
        if (parsed.Status != OcspRespStatus.Successful)
        {
            return new OcspReply(parsed.Status, null);
        }

        var basic = (BasicOcspResp)parsed.GetResponseObject();
        var signer = basic.GetCerts().Single();
        if (!basic.Verify(signer.GetPublicKey()))
        {
            throw new InvalidOperationException("The OCSP response's signature does not verify with the certificate it carries.");
        }

        return new OcspReply(parsed.Status, basic);
    }
}

/// <summary>An OCSP response as <see cref="OcspTestClient"/> read it.</summary>
public sealed record OcspReply(int Status, BasicOcspResp? Basic)
{
    public BasicOcspResp Successful => Basic ?? throw new InvalidOperationException($"The OCSP response status is {Status}, not successful.");

    public X509Certificate2 Responder => X509CertificateLoader.LoadCertificate(Successful.GetCerts().Single().GetEncoded());

    /// <summary>The one certificate's answer (of a request about one).</summary>
    public SingleResp Answer => Successful.Responses.Single();

    /// <summary>"good", "revoked" or "unknown", as openssl prints it.</summary>
    public static string StateOf(SingleResp answer) => answer.GetCertStatus() switch
    {
        null => "good",
        RevokedStatus => "revoked",
        _ => "unknown",
    };

    public string State => StateOf(Answer);

    /// <summary>The revocation reason (CRLReason), or null when none is given or it is not revoked.</summary>
    public int? Reason => Answer.GetCertStatus() is RevokedStatus { HasRevocationReason: true } revoked ? revoked.RevocationReason : null;

    public DateTime? RevokedAt => (Answer.GetCertStatus() as RevokedStatus)?.RevocationTime;

    /// <summary>The nonce the response echoes (the extension's value), or null.</summary>
    public byte[]? Nonce => Successful.GetExtensionValue(OcspObjectIdentifiers.PkixOcspNonce) is { } value
        ? Asn1OctetString.GetInstance(value.GetOctets()).GetOctets()
        : null;
}

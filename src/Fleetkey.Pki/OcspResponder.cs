using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Fleetkey.Pki;

/// <summary>An OCSP response (DER) and its responseStatus.</summary>
public sealed record OcspAnswer(OcspResponseStatus Status, byte[] Response);

/// <summary>Looks up a certificate of the issuing CA <paramref name="issuerCertificateId"/> by serial number (INTEGER content octets).</summary>
public delegate ValueTask<OcspCertificateStatus> OcspStatusLookup(string issuerCertificateId, ReadOnlyMemory<byte> serialNumber, CancellationToken cancellationToken);

/// <summary>
/// Fleetkey's OCSP responder (RFC 6960, with RFC 5019's profile where it applies): reads a request,
/// answers for the certificates of the issuing CA with the status its caller looks up, and signs with
/// this node's delegated responder certificate (<see cref="OcspSigner"/>), which the response carries.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>A request that is not DER, too long, or asks about more than 16 certificates: <c>malformedRequest</c>.</item>
/// <item>A CertID of another issuer (name and key hash, with SHA-1, SHA-256, SHA-384 or SHA-512), or of
/// an unknown hash algorithm: <c>unauthorized</c> for the whole request, as RFC 5019 responders answer
/// what they are not authoritative for.</item>
/// <item>A serial number that is not positive or longer than 20 octets cannot be one of Fleetkey's:
/// <c>unknown</c> without a lookup.</item>
/// </list>
/// Times are to the second; thisUpdate and producedAt are now, nextUpdate an hour later
/// (<see cref="ResponseValidity"/>): a client may keep an answer that long.
/// </remarks>
public sealed class OcspResponder
{
    /// <summary>How long a relying party may keep an answer (nextUpdate − thisUpdate).</summary>
    public static readonly TimeSpan ResponseValidity = TimeSpan.FromHours(1);

    public const int MaxRequestBytes = OcspRequestReader.MaxRequestBytes;

    private const string BasicResponseOid = "1.3.6.1.5.5.7.48.1.1";

    // RFC 5280 bounds serial numbers to 20 octets; with the sign octet DER may need 21.
    private const int MaxSerialBytes = 21;

    private static readonly Asn1Tag Explicit0 = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag Explicit1 = new(TagClass.ContextSpecific, 1, isConstructed: true);
    private static readonly Asn1Tag ByKeyTag = new(TagClass.ContextSpecific, 2, isConstructed: true);
    private static readonly Asn1Tag GoodTag = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag RevokedTag = new(TagClass.ContextSpecific, 1, isConstructed: true);
    private static readonly Asn1Tag UnknownTag = new(TagClass.ContextSpecific, 2);

    private static readonly Dictionary<string, HashAlgorithmName> HashAlgorithms = new(StringComparer.Ordinal)
    {
        ["1.3.14.3.2.26"] = HashAlgorithmName.SHA1,
        ["2.16.840.1.101.3.4.2.1"] = HashAlgorithmName.SHA256,
        ["2.16.840.1.101.3.4.2.2"] = HashAlgorithmName.SHA384,
        ["2.16.840.1.101.3.4.2.3"] = HashAlgorithmName.SHA512,
    };

    private static readonly byte[] MalformedResponse = Unsuccessful(OcspResponseStatus.MalformedRequest);
    private static readonly byte[] UnauthorizedResponse = Unsuccessful(OcspResponseStatus.Unauthorized);

    private readonly OcspSigner _signer;
    private readonly TimeProvider _time;
    private readonly string _issuerId;

    // The issuing CA's CertID hashes (issuerNameHash, issuerKeyHash) by hash algorithm OID.
    private readonly Dictionary<string, (byte[] NameHash, byte[] KeyHash)> _issuerHashes = new(StringComparer.Ordinal);

    public OcspResponder(CertificateAuthority authority, OcspSigner signer, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(time);
        _signer = signer;
        _time = time;
        _issuerId = authority.IssuingCertificateId;
        var name = authority.Issuing.SubjectName.RawData;
        var key = authority.Issuing.PublicKey.EncodedKeyValue.RawData;
        foreach (var (oid, algorithm) in HashAlgorithms)
        {
            _issuerHashes[oid] = (Hash(algorithm, name), Hash(algorithm, key));
        }
    }

    /// <summary>The DER request of a GET's path after <c>/ocsp/</c> (see <see cref="OcspRequestReader.TryDecodeGetPath"/>); empty when it holds none, which is answered malformedRequest.</summary>
    public static byte[] DecodeGetPath(string path) => OcspRequestReader.TryDecodeGetPath(path) ?? [];

    /// <summary>Answers one request (its DER body); never throws for what the request holds.</summary>
    public async ValueTask<OcspAnswer> RespondAsync(ReadOnlyMemory<byte> request, OcspStatusLookup lookup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        if (OcspRequestReader.TryRead(request) is not { } parsed)
        {
            return new OcspAnswer(OcspResponseStatus.MalformedRequest, MalformedResponse);
        }

        if (!parsed.Certificates.All(IsOurs))
        {
            return new OcspAnswer(OcspResponseStatus.Unauthorized, UnauthorizedResponse);
        }

        var answers = new (OcspCertId Id, OcspCertificateStatus Status)[parsed.Certificates.Count];
        for (var i = 0; i < answers.Length; i++)
        {
            var id = parsed.Certificates[i];
            var serial = id.SerialNumber;
            var possible = serial.Length <= MaxSerialBytes && (serial.Span[0] & 0x80) == 0 && !(serial.Length == 1 && serial.Span[0] == 0);
            answers[i] = (id, possible ? await lookup(_issuerId, serial, cancellationToken) : OcspCertificateStatus.Unknown);
        }

        return new OcspAnswer(OcspResponseStatus.Successful, Write(_signer.Current(), answers, parsed.NonceExtensionValue));
    }

    private bool IsOurs(OcspCertId id) =>
        _issuerHashes.TryGetValue(id.HashAlgorithm, out var hashes)
        && id.IssuerNameHash.Span.SequenceEqual(hashes.NameHash)
        && id.IssuerKeyHash.Span.SequenceEqual(hashes.KeyHash);

    private byte[] Write(OcspSigner.Generation signer, (OcspCertId Id, OcspCertificateStatus Status)[] answers, ReadOnlyMemory<byte>? nonce)
    {
        var now = Certificates.Now(_time);
        var tbs = new AsnWriter(AsnEncodingRules.DER);
        using (tbs.PushSequence())
        {
            // version v1 is the DEFAULT, so it is not encoded; responderID byKey.
            using (tbs.PushSequence(ByKeyTag))
            {
                tbs.WriteOctetString(signer.KeyHash);
            }

            tbs.WriteGeneralizedTime(now, omitFractionalSeconds: true);
            using (tbs.PushSequence())
            {
                foreach (var (id, status) in answers)
                {
                    WriteSingleResponse(tbs, id, status, now);
                }
            }

            if (nonce is { } value)
            {
                using (tbs.PushSequence(Explicit1))
                using (tbs.PushSequence())
                using (tbs.PushSequence())
                {
                    tbs.WriteObjectIdentifier(OcspRequestReader.NonceOid);
                    tbs.WriteOctetString(value.Span);
                }
            }
        }

        var tbsDer = tbs.Encode();
        var (algorithm, signature) = signer.Sign(tbsDer);
        var basic = new AsnWriter(AsnEncodingRules.DER);
        using (basic.PushSequence())
        {
            basic.WriteEncodedValue(tbsDer);
            basic.WriteEncodedValue(algorithm);
            basic.WriteBitString(signature);
            using (basic.PushSequence(Explicit0))
            using (basic.PushSequence())
            {
                basic.WriteEncodedValue(signer.CertificateDer);
            }
        }

        var response = new AsnWriter(AsnEncodingRules.DER);
        using (response.PushSequence())
        {
            response.WriteEnumeratedValue(OcspResponseStatus.Successful);
            using (response.PushSequence(Explicit0))
            using (response.PushSequence())
            {
                response.WriteObjectIdentifier(BasicResponseOid);
                response.WriteOctetString(basic.Encode());
            }
        }

        return response.Encode();
    }

    private static void WriteSingleResponse(AsnWriter writer, OcspCertId id, OcspCertificateStatus status, DateTimeOffset now)
    {
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(id.Encoded.Span);
            switch (status.State)
            {
                case OcspCertificateState.Good:
                    writer.WriteNull(GoodTag);
                    break;
                case OcspCertificateState.Revoked:
                    using (writer.PushSequence(RevokedTag))
                    {
                        writer.WriteGeneralizedTime(status.RevokedAt, omitFractionalSeconds: true);
                        if (status.Reason is { } reason)
                        {
                            using (writer.PushSequence(Explicit0))
                            {
                                writer.WriteEnumeratedValue(reason);
                            }
                        }
                    }

                    break;
                default:
                    writer.WriteNull(UnknownTag);
                    break;
            }

            writer.WriteGeneralizedTime(now, omitFractionalSeconds: true);
            using (writer.PushSequence(Explicit0))
            {
                writer.WriteGeneralizedTime(now + ResponseValidity, omitFractionalSeconds: true);
            }
        }
    }

    private static byte[] Unsuccessful(OcspResponseStatus status)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEnumeratedValue(status);
        }

        return writer.Encode();
    }

#pragma warning disable CA5350 // CertIDs name issuers by SHA-1 (RFC 6960 as most clients send it); a hash that identifies, not one that protects.
    private static byte[] Hash(HashAlgorithmName algorithm, byte[] data) => CryptographicOperations.HashData(algorithm, data);
#pragma warning restore CA5350
}

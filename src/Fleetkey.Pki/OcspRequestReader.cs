using System.Formats.Asn1;

namespace Fleetkey.Pki;

/// <summary>One CertID of an OCSP request (RFC 6960 4.1.1). <see cref="Encoded"/> is the CertID as sent: the answer echoes it.</summary>
internal sealed record OcspCertId(ReadOnlyMemory<byte> Encoded, string HashAlgorithm, ReadOnlyMemory<byte> IssuerNameHash, ReadOnlyMemory<byte> IssuerKeyHash, ReadOnlyMemory<byte> SerialNumber);

/// <summary>
/// An OCSP request as Fleetkey reads it: the certificates asked about, and the nonce extension's value
/// (extnValue, as sent) when the response should echo it (see <see cref="OcspRequestReader"/>).
/// </summary>
internal sealed record OcspRequest(IReadOnlyList<OcspCertId> Certificates, ReadOnlyMemory<byte>? NonceExtensionValue);

/// <summary>
/// Reads an OCSPRequest (RFC 6960 4.1.1, DER) from the network: hostile input, so every field is read
/// with <see cref="AsnReader"/> under DER rules and anything else is refused as a whole.
/// </summary>
/// <remarks>
/// Bounded: at most <see cref="MaxRequestBytes"/> bytes and <see cref="MaxCertificates"/> CertIDs. The
/// request's signature and requestor name are skipped (Fleetkey answers anyone, as public responders
/// do), as are extensions other than the nonce. The nonce (RFC 8954): its value is the OCTET STRING
/// inside extnValue (or, from clients that put it there bare, extnValue itself); one of 1 to
/// <see cref="MaxNonceBytes"/> octets is echoed, and any other is left out of the response (RFC 8954 2.1
/// allows it), so a client that insists on its nonce fails on its side rather than Fleetkey refusing.
/// </remarks>
internal static class OcspRequestReader
{
    public const int MaxRequestBytes = 8 * 1024;

    public const int MaxCertificates = 16;

    public const int MaxNonceBytes = 32;

    public const string NonceOid = "1.3.6.1.5.5.7.48.1.2";

    private static readonly Asn1Tag VersionTag = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag RequestorNameTag = new(TagClass.ContextSpecific, 1, isConstructed: true);
    private static readonly Asn1Tag RequestExtensionsTag = new(TagClass.ContextSpecific, 2, isConstructed: true);
    private static readonly Asn1Tag SingleExtensionsTag = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag SignatureTag = new(TagClass.ContextSpecific, 0, isConstructed: true);

    /// <summary>The longest GET path (after <c>/ocsp/</c>) read: the base64 of the longest request, every character percent-encoded.</summary>
    public const int MaxGetPathChars = ((MaxRequestBytes + 2) / 3 * 4) * 3;

    /// <summary>
    /// The request of a GET (RFC 6960 A.1: the URL-encoded base64 of the DER after the responder's path):
    /// percent-decoded, then base64 in either alphabet (standard, or RFC 4648 URL-safe as some clients
    /// send it), padded or not; null when it is none of these or longer than <see cref="MaxRequestBytes"/>.
    /// Clients that leave '/' unescaped are read too: the whole rest of the path is the request.
    /// </summary>
    public static byte[]? TryDecodeGetPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length is 0 or > MaxGetPathChars)
        {
            return null;
        }

        var text = Uri.UnescapeDataString(path).Replace('-', '+').Replace('_', '/');
        switch (text.Length % 4)
        {
            case 1:
                return null;
            case 2:
                text += "==";
                break;
            case 3:
                text += "=";
                break;
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written) || written is 0 or > MaxRequestBytes)
        {
            return null;
        }

        return buffer[..written];
    }

    /// <summary>The request, or null when it is not one Fleetkey reads (answered <c>malformedRequest</c>).</summary>
    public static OcspRequest? TryRead(ReadOnlyMemory<byte> der)
    {
        if (der.Length is 0 or > MaxRequestBytes)
        {
            return null;
        }

        try
        {
            return Read(der);
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static OcspRequest? Read(ReadOnlyMemory<byte> der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER);
        var request = outer.ReadSequence();
        outer.ThrowIfNotEmpty();

        var tbs = request.ReadSequence();
        if (request.HasData)
        {
            request.ReadEncodedValue().Span.ThrowIfNotTagged(SignatureTag);
        }

        request.ThrowIfNotEmpty();

        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(VersionTag))
        {
            var version = tbs.ReadSequence(VersionTag);
            if (!version.TryReadInt32(out var v) || v != 0)
            {
                return null;
            }

            version.ThrowIfNotEmpty();
        }

        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(RequestorNameTag))
        {
            tbs.ReadEncodedValue();
        }

        var list = tbs.ReadSequence();
        var certificates = new List<OcspCertId>();
        while (list.HasData)
        {
            if (certificates.Count == MaxCertificates)
            {
                return null;
            }

            var single = list.ReadSequence();
            certificates.Add(ReadCertId(single.ReadEncodedValue()));
            if (single.HasData)
            {
                ReadExtensions(single.ReadSequence(SingleExtensionsTag));
            }

            single.ThrowIfNotEmpty();
        }

        if (certificates.Count == 0)
        {
            return null;
        }

        ReadOnlyMemory<byte>? nonce = null;
        if (tbs.HasData)
        {
            var nonceValue = ReadExtensions(tbs.ReadSequence(RequestExtensionsTag));
            if (nonceValue is { } value && NonceLength(value) is >= 1 and <= MaxNonceBytes)
            {
                nonce = value;
            }
        }

        tbs.ThrowIfNotEmpty();
        return new OcspRequest(certificates, nonce);
    }

    private static OcspCertId ReadCertId(ReadOnlyMemory<byte> encoded)
    {
        var outer = new AsnReader(encoded, AsnEncodingRules.DER);
        var certId = outer.ReadSequence();
        outer.ThrowIfNotEmpty();

        var algorithm = certId.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        if (algorithm.HasData)
        {
            // Parameters: NULL (or absent) for every hash algorithm Fleetkey knows; others are read and ignored.
            algorithm.ReadEncodedValue();
        }

        algorithm.ThrowIfNotEmpty();
        var nameHash = certId.ReadOctetString();
        var keyHash = certId.ReadOctetString();
        var serial = certId.ReadIntegerBytes();
        certId.ThrowIfNotEmpty();
        return new OcspCertId(encoded, oid, nameHash, keyHash, serial);
    }

    /// <summary>Reads an Extensions SEQUENCE; returns the nonce's extnValue contents, if there is one (twice is malformed).</summary>
    private static ReadOnlyMemory<byte>? ReadExtensions(AsnReader wrapper)
    {
        var extensions = wrapper.ReadSequence();
        wrapper.ThrowIfNotEmpty();
        ReadOnlyMemory<byte>? nonce = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (extensions.HasData)
        {
            var extension = extensions.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            if (!seen.Add(oid))
            {
                throw new AsnContentException("An extension appears twice.");
            }

            if (extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
            {
                extension.ReadBoolean();
            }

            if (!extension.TryReadPrimitiveOctetString(out var value))
            {
                throw new AsnContentException("The extension value is not a primitive OCTET STRING.");
            }

            extension.ThrowIfNotEmpty();
            if (oid == NonceOid)
            {
                nonce = value;
            }
        }

        return nonce;
    }

    /// <summary>The nonce's length: of the OCTET STRING inside extnValue (RFC 8954), else of extnValue's bytes.</summary>
    private static int NonceLength(ReadOnlyMemory<byte> extensionValue)
    {
        try
        {
            var reader = new AsnReader(extensionValue, AsnEncodingRules.DER);
            if (reader.TryReadPrimitiveOctetString(out var inner) && !reader.HasData)
            {
                return inner.Length;
            }
        }
        catch (AsnContentException)
        {
        }

        return extensionValue.Length;
    }

    private static void ThrowIfNotTagged(this ReadOnlySpan<byte> encoded, Asn1Tag tag)
    {
        if (!Asn1Tag.Decode(encoded, out _).HasSameClassAndValue(tag))
        {
            throw new AsnContentException("Unexpected field.");
        }
    }
}

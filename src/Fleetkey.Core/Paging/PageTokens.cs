using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Fleetkey.Core.Errors;

namespace Fleetkey.Core.Paging;

/// <summary>
/// Pagination tokens (<c>nextToken</c> and <c>marker</c>): the sort key of the last item a page returned,
/// sealed with an HMAC over that key and the request it answered (the operation and its filters), so a
/// page is a keyset query (<c>WHERE key &gt; @after</c>) that stays stable while items are added or removed,
/// and a client can neither forge a key nor carry a token over to another operation or other filters.
/// </summary>
/// <remarks>
/// <para>
/// A token is standard base64 of <c>version (1 byte) ‖ tag (16 bytes) ‖ key (UTF-8)</c>, where the tag is
/// HMAC-SHA256(secret, version ‖ length of the scope ‖ scope ‖ key) cut to 128 bits. Base64 fits the model's
/// <c>Marker</c> pattern <c>[A-Za-z0-9+/]+={0,2}</c>; the 17 bytes of overhead leave keys of up to 700 bytes
/// within its 1,024 characters (names are at most a few hundred).
/// </para>
/// <para>
/// The key is readable by whoever holds the token. It is the last item of a page the caller was shown, so
/// nothing is disclosed; what matters is that it cannot be changed. The secret must be the same on every
/// node and across restarts, so that a token handed out by one node is honoured by the next (see
/// <c>CertificateAuthority.DeriveSecret</c>).
/// </para>
/// </remarks>
public sealed class PageTokens
{
    /// <summary>The size of the secret, in bytes.</summary>
    public const int SecretLength = 32;

    private const byte Version = 1;
    private const int TagLength = 16;
    private const int HeaderLength = 1 + TagLength;

    // Tokens longer than this were not made here (the model caps markers at 1,024 characters).
    private const int MaxTokenLength = 4096;

    private readonly byte[] _secret;

    public PageTokens(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < SecretLength)
        {
            throw new ArgumentException($"A page-token secret has at least {SecretLength} bytes.", nameof(secret));
        }

        _secret = secret.ToArray();
    }

    /// <summary>The token for the page after <paramref name="lastKey"/> of the request named by <paramref name="scope"/>.</summary>
    /// <param name="scope">The operation and its filters, in a canonical form: a token is honoured only for the same scope.</param>
    public string Protect(string scope, string lastKey)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(lastKey);
        var token = new byte[HeaderLength + Encoding.UTF8.GetByteCount(lastKey)];
        token[0] = Version;
        Encoding.UTF8.GetBytes(lastKey, token.AsSpan(HeaderLength));
        ComputeTag(scope, token.AsSpan(HeaderLength), token.AsSpan(1, TagLength));
        return Convert.ToBase64String(token);
    }

    /// <summary>
    /// The key after which the next page starts, or null for the first page (no token). A token that was not
    /// made by <see cref="Protect"/> for this <paramref name="scope"/> is refused with an
    /// <c>InvalidRequestException</c> worded as AWS words it ("Invalid nextToken").
    /// </summary>
    /// <param name="field">The token's member name, for the message (<c>nextToken</c> or <c>marker</c>).</param>
    public string? Unprotect(string scope, string? token, string field)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        if (token.Length <= MaxTokenLength)
        {
            Span<byte> bytes = stackalloc byte[MaxTokenLength * 3 / 4];
            Span<byte> expected = stackalloc byte[TagLength];
            if (Convert.TryFromBase64String(token, bytes, out var length)
                && length > HeaderLength
                && bytes[0] == Version)
            {
                var key = bytes[HeaderLength..length];
                ComputeTag(scope, key, expected);
                if (CryptographicOperations.FixedTimeEquals(expected, bytes.Slice(1, TagLength)) && Utf8.IsValid(key))
                {
                    return Encoding.UTF8.GetString(key);
                }
            }
        }

        ThrowHelper.InvalidRequest($"Invalid {field}");
        return null;
    }

    private void ComputeTag(string scope, ReadOnlySpan<byte> key, Span<byte> tag)
    {
        var scopeLength = Encoding.UTF8.GetByteCount(scope);
        var message = new byte[1 + sizeof(int) + scopeLength + key.Length];
        message[0] = Version;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), scopeLength);
        Encoding.UTF8.GetBytes(scope, message.AsSpan(1 + sizeof(int)));
        key.CopyTo(message.AsSpan(1 + sizeof(int) + scopeLength));
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_secret, message, mac);
        mac[..TagLength].CopyTo(tag);
    }
}

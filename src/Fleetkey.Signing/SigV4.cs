using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Signing;

/// <summary>
/// The steps of AWS Signature Version 4 that a signer and a verifier share: the canonical request,
/// the string to sign, the signing key and the signature (AWS General Reference, "Create a signed
/// AWS API request"). Fleetkey's server verifies and Fleetkey.Client signs with this one code.
/// </summary>
/// <remarks>
/// Which headers to sign, the request time and the credential scope are the caller's: a signer
/// chooses them, a verifier reads them from the <c>Authorization</c> header and checks them.
/// </remarks>
public static class SigV4
{
    /// <summary>The only algorithm: <c>AWS4-HMAC-SHA256</c>.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The last element of every credential scope.</summary>
    public const string Terminator = "aws4_request";

    /// <summary>The length of a signing key and of a signature, in bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The request time in the SigV4 "basic format", <c>yyyyMMddTHHmmssZ</c> (UTC).</summary>
    public static string FormatRequestTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The credential scope, <c>date/region/service/aws4_request</c>.</summary>
    /// <param name="scopeDate">The UTC date of the request, <c>yyyyMMdd</c>.</param>
    public static string CredentialScope(string scopeDate, string region, string service) =>
        $"{scopeDate}/{region}/{service}/{Terminator}";

    /// <summary>The lowercase hex SHA-256 of <paramref name="payload"/>, as the canonical request and <c>x-amz-content-sha256</c> carry it.</summary>
    public static string PayloadHash(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    /// <summary>The canonical request (step 1 of signing).</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="rawPath">The path exactly as sent on the wire, still percent-encoded.</param>
    /// <param name="rawQuery">The query string as sent, without the <c>?</c>; empty when there is none.</param>
    /// <param name="headers">The request's headers by name (compared case-insensitively by the caller's dictionary), each with its values in the order sent.</param>
    /// <param name="signedHeaders">The signed header names joined with <c>;</c>, as the <c>Authorization</c> header carries them.</param>
    /// <param name="payloadHash">The lowercase hex SHA-256 of the body.</param>
    public static string CanonicalRequest(
        string method,
        string rawPath,
        string rawQuery,
        IReadOnlyDictionary<string, IReadOnlyList<string>> headers,
        string signedHeaders,
        string payloadHash)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(signedHeaders);

        var builder = new StringBuilder(256);
        builder.Append(method).Append('\n');
        builder.Append(SigV4Canonical.Path(rawPath)).Append('\n');
        builder.Append(SigV4Canonical.Query(rawQuery)).Append('\n');
        foreach (var name in signedHeaders.Split(';'))
        {
            var values = headers.TryGetValue(name, out var found) ? found : [];
            builder.Append(name.ToLowerInvariant()).Append(':').Append(SigV4Canonical.HeaderValue(values)).Append('\n');
        }

        builder.Append('\n');
        builder.Append(signedHeaders).Append('\n');
        builder.Append(payloadHash);
        return builder.ToString();
    }

    /// <summary>The string to sign (step 2): algorithm, request time, credential scope and the hash of the canonical request.</summary>
    /// <param name="requestTime">The request time in basic format (<see cref="FormatRequestTime"/>).</param>
    public static string StringToSign(string requestTime, string credentialScope, string canonicalRequest)
    {
        ArgumentNullException.ThrowIfNull(canonicalRequest);
        var canonicalHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));
        return string.Join('\n', Algorithm, requestTime, credentialScope, canonicalHash);
    }

    /// <summary>
    /// Derives the signing key (step 3), <c>HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")</c>,
    /// into <paramref name="destination"/> (<see cref="KeyLength"/> bytes). Intermediate values are zeroed.
    /// </summary>
    public static void DeriveSigningKey(string secretAccessKey, string scopeDate, string region, string service, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(secretAccessKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, KeyLength, nameof(destination));

        var secretBytes = Encoding.UTF8.GetBytes("AWS4" + secretAccessKey);
        Span<byte> first = stackalloc byte[KeyLength];
        Span<byte> second = stackalloc byte[KeyLength];
        try
        {
            HMACSHA256.HashData(secretBytes, Encoding.UTF8.GetBytes(scopeDate), first);
            HMACSHA256.HashData(first, Encoding.UTF8.GetBytes(region), second);
            HMACSHA256.HashData(second, Encoding.UTF8.GetBytes(service), first);
            HMACSHA256.HashData(first, Encoding.UTF8.GetBytes(Terminator), destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
            CryptographicOperations.ZeroMemory(first);
            CryptographicOperations.ZeroMemory(second);
        }
    }

    /// <summary>The signature (step 4), <c>HMAC(signingKey, stringToSign)</c>, into <paramref name="destination"/> (<see cref="KeyLength"/> bytes).</summary>
    public static void ComputeSignature(ReadOnlySpan<byte> signingKey, string stringToSign, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(stringToSign);
        HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign), destination);
    }

    /// <summary>Steps 3 and 4 together: the lowercase hex signature of <paramref name="stringToSign"/>.</summary>
    public static string Sign(string secretAccessKey, string scopeDate, string region, string service, string stringToSign)
    {
        Span<byte> key = stackalloc byte[KeyLength];
        Span<byte> signature = stackalloc byte[KeyLength];
        try
        {
            DeriveSigningKey(secretAccessKey, scopeDate, region, service, key);
            ComputeSignature(key, stringToSign, signature);
            return Convert.ToHexStringLower(signature);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The value of the <c>Authorization</c> header that carries a signature.</summary>
    public static string AuthorizationHeader(string accessKeyId, string credentialScope, string signedHeaders, string signature) =>
        $"{Algorithm} Credential={accessKeyId}/{credentialScope}, SignedHeaders={signedHeaders}, Signature={signature}";
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Signing;
using Microsoft.Extensions.Primitives;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// Verifies AWS Signature Version 4 in the <c>Authorization</c> header, as the AWS SDKs sign
/// requests for every service but S3. Pure: the only outside call is the secret lookup.
/// </summary>
/// <remarks>
/// Checks run in the order AWS's front door runs them (the order dynalite and scratchstack record
/// from AWS), so a request with several faults gets the error AWS would give: the header's presence,
/// algorithm and shape, the required parameters, the signed <c>host</c> and date headers, the date's
/// format and skew, the credential's shape and scope, the access key, and last the signature.
/// Presigned (query-string) requests are not supported and count as unauthenticated; session
/// tokens are refused, since Fleetkey issues none.
/// </remarks>
internal static class SigV4Verifier
{
    /// <summary>How far the request time may be from the server's clock, either way.</summary>
    public static readonly TimeSpan AllowedSkew = TimeSpan.FromMinutes(5);

    private const int MaxAccessKeyIdLength = 128;

    // Keys for yesterday's and today's dates of a few hundred access keys and regions; past that the
    // cache starts over rather than grow.
    private const int MaxSigningKeys = 1024;

    private static readonly ConcurrentDictionary<(string Secret, string Date, string Region, string Service), byte[]> SigningKeys = new();

    private const string BasicFormat = "yyyyMMdd'T'HHmmss'Z'";

    public static async ValueTask<SigV4Result> VerifyAsync(
        SigV4Request request,
        string expectedService,
        DateTimeOffset now,
        ISigningSecretProvider secrets,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(secrets);

        var headers = IndexHeaders(request.Headers);

        if (!headers.TryGetValue("authorization", out var authorizationValues) || authorizationValues.Count == 0)
        {
            return Fail(SigV4FailureKind.MissingAuthentication, ErrorCode.MissingAuthenticationToken, SigV4Messages.MissingAuthenticationToken);
        }

        var authorization = string.Join(',', authorizationValues);
        var parsed = ParseAuthorization(authorization, authorizationValues.Count, out var failure);
        if (parsed is null)
        {
            return failure!;
        }

        var (credential, signedHeadersValue, signature) = parsed.Value;

        var (dateHeaderName, dateValue) = FindDate(headers);
        var requirements = new StringBuilder();
        if (credential is null)
        {
            requirements.Append(SigV4Messages.RequiresCredential);
        }

        if (signature is null)
        {
            requirements.Append(SigV4Messages.RequiresSignature);
        }

        if (signedHeadersValue is null)
        {
            requirements.Append(SigV4Messages.RequiresSignedHeaders);
        }

        if (dateValue is null)
        {
            requirements.Append(SigV4Messages.RequiresDate);
        }

        if (requirements.Length > 0)
        {
            return Fail(
                SigV4FailureKind.MissingAuthorizationParts,
                ErrorCode.IncompleteSignature,
                SigV4Messages.MissingParts(requirements.ToString(), authorization));
        }

        var signedHeaders = signedHeadersValue!.Split(';');
        if (!signedHeaders.Contains("host", StringComparer.OrdinalIgnoreCase))
        {
            return Fail(SigV4FailureKind.HeaderNotSigned, ErrorCode.InvalidSignature, SigV4Messages.HostMustBeSigned);
        }

        // The request time is in the string to sign either way; every SDK also signs the header
        // that carries it, so a request that does not was not made by a conforming signer.
        if (!signedHeaders.Contains(dateHeaderName, StringComparer.OrdinalIgnoreCase))
        {
            var displayName = dateHeaderName == "x-amz-date" ? "X-Amz-Date" : "Date";
            return Fail(SigV4FailureKind.HeaderNotSigned, ErrorCode.InvalidSignature, SigV4Messages.HeaderMustBeSigned(displayName));
        }

        if (!TryParseRequestTime(dateHeaderName, dateValue!, out var requestTime, out var requestTimeText))
        {
            return Fail(SigV4FailureKind.MalformedDate, ErrorCode.IncompleteSignature, SigV4Messages.MalformedDate(dateValue!));
        }

        // AWS compares and prints whole seconds.
        var nowSeconds = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        if (requestTime < nowSeconds - AllowedSkew)
        {
            return Fail(
                SigV4FailureKind.SignatureExpired,
                ErrorCode.InvalidSignature,
                SigV4Messages.SignatureExpired(requestTimeText, nowSeconds, AllowedSkew));
        }

        if (requestTime > nowSeconds + AllowedSkew)
        {
            return Fail(
                SigV4FailureKind.SignatureNotYetCurrent,
                ErrorCode.InvalidSignature,
                SigV4Messages.SignatureNotYetCurrent(requestTimeText, nowSeconds, AllowedSkew));
        }

        var scope = credential!.Split('/');
        if (scope.Length != 5)
        {
            return Fail(SigV4FailureKind.MalformedCredential, ErrorCode.IncompleteSignature, SigV4Messages.CredentialNotFiveParts(credential));
        }

        var (accessKeyId, scopeDate, region, service, terminator) = (scope[0], scope[1], scope[2], scope[3], scope[4]);
        var scopeErrors = new StringBuilder();
        if (!NameRules.IsAwsRegion(region))
        {
            scopeErrors.Append(SigV4Messages.InvalidRegion(region));
        }

        if (!string.Equals(service, expectedService, StringComparison.Ordinal))
        {
            scopeErrors.Append(SigV4Messages.WrongService(expectedService));
        }

        if (!string.Equals(terminator, SigV4.Terminator, StringComparison.Ordinal))
        {
            scopeErrors.Append(SigV4Messages.WrongTerminator(terminator));
        }

        if (!string.Equals(scopeDate, requestTimeText[..8], StringComparison.Ordinal))
        {
            scopeErrors.Append(SigV4Messages.ScopeDateMismatch(scopeDate, requestTimeText));
        }

        if (scopeErrors.Length > 0)
        {
            return Fail(SigV4FailureKind.InvalidCredentialScope, ErrorCode.InvalidSignature, scopeErrors.ToString(), accessKeyId);
        }

        if (headers.ContainsKey("x-amz-security-token"))
        {
            return Fail(SigV4FailureKind.SessionTokenNotSupported, ErrorCode.UnrecognizedClient, SigV4Messages.InvalidSecurityToken, accessKeyId);
        }

        var secret = accessKeyId.Length is > 0 and <= MaxAccessKeyIdLength
            ? await secrets.FindSecretAsync(accessKeyId, cancellationToken).ConfigureAwait(false)
            : null;
        if (secret is null)
        {
            return Fail(SigV4FailureKind.UnknownAccessKey, ErrorCode.UnrecognizedClient, SigV4Messages.InvalidSecurityToken, accessKeyId);
        }

        if (headers.TryGetValue("x-amz-content-sha256", out var declaredHashes)
            && !string.Equals(string.Join(',', declaredHashes), request.PayloadHash, StringComparison.Ordinal))
        {
            return Fail(SigV4FailureKind.PayloadHashMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch, accessKeyId);
        }

        var canonicalRequest = SigV4.CanonicalRequest(request.Method, request.RawPath, request.RawQuery, headers, signedHeadersValue, request.PayloadHash);
        var stringToSign = SigV4.StringToSign(requestTimeText, SigV4.CredentialScope(scopeDate, region, service), canonicalRequest);
        if (!SignatureMatches(secret, scopeDate, region, service, stringToSign, signature!)
            && (await secrets.FindPreviousSecretAsync(accessKeyId, cancellationToken).ConfigureAwait(false) is not { } previous
                || !SignatureMatches(previous, scopeDate, region, service, stringToSign, signature!)))
        {
            return Fail(SigV4FailureKind.SignatureMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch, accessKeyId);
        }

        return SigV4Result.Success(new SigV4Identity(accessKeyId, region));
    }

    internal static Dictionary<string, IReadOnlyList<string>> IndexHeaders(IEnumerable<KeyValuePair<string, StringValues>> headers)
    {
        var lists = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            if (!lists.TryGetValue(name, out var list))
            {
                list = [];
                lists.Add(name, list);
            }

            foreach (var value in values)
            {
                if (value is not null)
                {
                    list.Add(value);
                }
            }
        }

        return lists.ToDictionary(static p => p.Key, static IReadOnlyList<string> (p) => p.Value, StringComparer.OrdinalIgnoreCase);
    }

    private static (string? Credential, string? SignedHeaders, string? Signature)? ParseAuthorization(
        string authorization,
        int headerCount,
        out SigV4Result? failure)
    {
        failure = null;
        var trimmed = authorization.Trim();
        var space = trimmed.IndexOfAny([' ', '\t']);
        var algorithm = space < 0 ? trimmed : trimmed[..space];

        // Anything that is not a SigV4 header (none, Basic, Bearer, SigV2) is "no AWS
        // authentication" to AWS; only an AWS4 header with another algorithm gets the algorithm error.
        if (!algorithm.StartsWith("AWS4-", StringComparison.Ordinal))
        {
            failure = Fail(SigV4FailureKind.MissingAuthentication, ErrorCode.MissingAuthenticationToken, SigV4Messages.MissingAuthenticationToken);
            return null;
        }

        if (!string.Equals(algorithm, SigV4.Algorithm, StringComparison.Ordinal))
        {
            failure = Fail(SigV4FailureKind.UnsupportedAlgorithm, ErrorCode.IncompleteSignature, SigV4Messages.UnsupportedAlgorithm(algorithm));
            return null;
        }

        if (headerCount > 1)
        {
            // Two Authorization headers are never one valid signature, whatever they hold.
            failure = Fail(SigV4FailureKind.MalformedAuthorization, ErrorCode.IncompleteSignature, SigV4Messages.InvalidKeyValuePair(authorization));
            return null;
        }

        string? credential = null, signedHeaders = null, signature = null;
        var parameters = space < 0 ? string.Empty : trimmed[(space + 1)..];
        foreach (var part in parameters.Split(','))
        {
            var pair = part.Trim();
            if (pair.Length == 0)
            {
                continue;
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                failure = Fail(SigV4FailureKind.MalformedAuthorization, ErrorCode.IncompleteSignature, SigV4Messages.InvalidKeyValuePair(authorization));
                return null;
            }

            var key = pair[..equals].Trim();
            var value = pair[(equals + 1)..].Trim();
            switch (key)
            {
                case "Credential" when credential is null && value.Length > 0:
                    credential = value;
                    break;
                case "SignedHeaders" when signedHeaders is null:
                    signedHeaders = value;
                    break;
                case "Signature" when signature is null && value.Length > 0:
                    signature = value;
                    break;
            }
        }

        return (credential, signedHeaders, signature);
    }

    private static (string Name, string? Value) FindDate(Dictionary<string, IReadOnlyList<string>> headers)
    {
        if (headers.TryGetValue("x-amz-date", out var amzDate) && amzDate.Count > 0)
        {
            return ("x-amz-date", string.Join(',', amzDate));
        }

        if (headers.TryGetValue("date", out var date) && date.Count > 0)
        {
            return ("date", string.Join(',', date));
        }

        return ("x-amz-date", null);
    }

    private static bool TryParseRequestTime(string headerName, string value, out DateTimeOffset time, out string basic)
    {
        var parsed = headerName == "x-amz-date"
            ? DateTimeOffset.TryParseExact(value, BasicFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time)
            : DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
        basic = parsed ? SigV4Messages.Basic(time) : string.Empty;
        return parsed;
    }

    private static bool SignatureMatches(string secret, string scopeDate, string region, string service, string stringToSign, string signature)
    {
        Span<byte> provided = stackalloc byte[SigV4.KeyLength];
        if (signature.Length != 2 * SigV4.KeyLength
            || Convert.FromHexString(signature, provided, out _, out var written) != OperationStatus.Done
            || written != SigV4.KeyLength)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[SigV4.KeyLength];
        try
        {
            SigV4.ComputeSignature(SigningKey(secret, scopeDate, region, service), stringToSign, expected);
            return CryptographicOperations.FixedTimeEquals(expected, provided);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>
    /// The signing key for a secret and scope. It changes once a day per key and region, so it is
    /// derived once (four HMACs) and kept, as the AWS SDKs keep it on the signing side.
    /// </summary>
    private static byte[] SigningKey(string secret, string scopeDate, string region, string service)
    {
        var scope = (secret, scopeDate, region, service);
        if (SigningKeys.TryGetValue(scope, out var key))
        {
            return key;
        }

        key = new byte[SigV4.KeyLength];
        SigV4.DeriveSigningKey(secret, scopeDate, region, service, key);
        if (SigningKeys.Count >= MaxSigningKeys)
        {
            SigningKeys.Clear();
        }

        SigningKeys[scope] = key;
        return key;
    }

    private static SigV4Result Fail(SigV4FailureKind kind, ErrorCode code, string message, string? accessKeyId = null) =>
        SigV4Result.Fail(kind, code, message, accessKeyId);
}

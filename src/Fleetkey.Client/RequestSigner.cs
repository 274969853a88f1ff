using Fleetkey.Signing;

namespace Fleetkey.Client;

/// <summary>
/// Signs an outgoing request with SigV4 for service <c>iot</c>, through the same canonicalisation
/// the Fleetkey server verifies with (<see cref="SigV4"/>). Signs what botocore signs for this
/// service: <c>host</c>, <c>x-amz-date</c>, the session token, <c>content-type</c> when there is a
/// body, and the operation's own headers (<c>x-amzn-principal</c>); not <c>user-agent</c> or
/// <c>content-length</c>, which proxies may change.
/// </summary>
internal static class RequestSigner
{
    public const string Service = "iot";

    public static void Sign(HttpRequestMessage message, ReadOnlySpan<byte> body, AwsCredentials credentials, string region, DateTimeOffset now)
    {
        var uri = message.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var requestTime = SigV4.FormatRequestTime(now);
        var scopeDate = requestTime[..8];

        var signed = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}",
            ["x-amz-date"] = requestTime,
        };
        message.Headers.Remove("x-amz-date");
        message.Headers.TryAddWithoutValidation("x-amz-date", requestTime);
        if (credentials.SessionToken is { } token)
        {
            signed["x-amz-security-token"] = token;
            message.Headers.Remove("x-amz-security-token");
            message.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        }

        if (message.Content?.Headers.ContentType is { } contentType)
        {
            signed["content-type"] = contentType.ToString();
        }

        foreach (var (name, values) in message.Headers)
        {
            if (name.StartsWith("x-amzn-", StringComparison.OrdinalIgnoreCase))
            {
                signed[name.ToLowerInvariant()] = string.Join(',', values);
            }
        }

        var signedHeaders = string.Join(';', signed.Keys);
        var headers = signed.ToDictionary(static h => h.Key, static IReadOnlyList<string> (h) => [h.Value], StringComparer.OrdinalIgnoreCase);
        var canonicalRequest = SigV4.CanonicalRequest(message.Method.Method, uri.AbsolutePath, uri.Query.TrimStart('?'), headers, signedHeaders, SigV4.PayloadHash(body));
        var scope = SigV4.CredentialScope(scopeDate, region, Service);
        var signature = SigV4.Sign(credentials.SecretAccessKey, scopeDate, region, Service, SigV4.StringToSign(requestTime, scope, canonicalRequest));
        message.Headers.Remove("Authorization");
        message.Headers.TryAddWithoutValidation("Authorization", SigV4.AuthorizationHeader(credentials.AccessKeyId, scope, signedHeaders, signature));
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Signing;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// The messages AWS's front door answers with for SigV4 failures, word for word, so that SDK users
/// see what they would see on AWS. None of them carries a secret, a computed signature or a
/// canonical request; where AWS echoes the Authorization header it echoes its SHA-256 instead.
/// </summary>
internal static class SigV4Messages
{
    public const string MissingAuthenticationToken = "Missing Authentication Token";

    public const string InvalidSecurityToken = "The security token included in the request is invalid.";

    public const string SignatureDoesNotMatch =
        "The request signature we calculated does not match the signature you provided. " +
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

    public const string HostMustBeSigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

    public const string RequiresCredential = "Authorization header requires 'Credential' parameter. ";

    public const string RequiresSignature = "Authorization header requires 'Signature' parameter. ";

    public const string RequiresSignedHeaders = "Authorization header requires 'SignedHeaders' parameter. ";

    public const string RequiresDate = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";

    public static string UnsupportedAlgorithm(string algorithm) => $"Unsupported AWS 'algorithm': '{algorithm}'.";

    public static string InvalidKeyValuePair(string authorization) =>
        $"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{Hash(authorization)}'.";

    /// <summary>The "requires …" sentences followed by the hashed header, as AWS words them today.</summary>
    public static string MissingParts(string requirements, string authorization) =>
        $"{requirements}(Hashed with SHA-256 and encoded with Base64) Authorization={Hash(authorization)}";

    public static string HeaderMustBeSigned(string displayName) => $"'{displayName}' must be a 'SignedHeader' in the AWS Authorization.";

    public static string MalformedDate(string value) =>
        $"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601";

    public static string SignatureExpired(string requestTime, DateTimeOffset now, TimeSpan skew) =>
        $"Signature expired: {requestTime} is now earlier than {Basic(now - skew)} ({Basic(now)} - {Minutes(skew)} min.)";

    public static string SignatureNotYetCurrent(string requestTime, DateTimeOffset now, TimeSpan skew) =>
        $"Signature not yet current: {requestTime} is still later than {Basic(now + skew)} ({Basic(now)} + {Minutes(skew)} min.)";

    public static string CredentialNotFiveParts(string credential) =>
        $"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'";

    // The scope sentences are concatenated when several are wrong; AWS ends each with a space.
    public static string InvalidRegion(string region) => $"Credential should be scoped to a valid region, not '{region}'. ";

    public static string WrongService(string expectedService) => $"Credential should be scoped to correct service: '{expectedService}'. ";

    public static string WrongTerminator(string terminator) =>
        $"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. ";

    public static string ScopeDateMismatch(string scopeDate, string requestTime) =>
        $"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scopeDate}' != '{requestTime[..8]}', from '{requestTime}'.";

    public static string RequestEntityTooLarge(int maxBodyBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"Request body exceeds the limit of {maxBodyBytes} bytes");

    /// <summary>The SigV4 "basic format" timestamp, <c>yyyyMMddTHHmmssZ</c>.</summary>
    public static string Basic(DateTimeOffset time) => SigV4.FormatRequestTime(time);

    private static string Minutes(TimeSpan skew) => ((int)skew.TotalMinutes).ToString(CultureInfo.InvariantCulture);

    private static string Hash(string value) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

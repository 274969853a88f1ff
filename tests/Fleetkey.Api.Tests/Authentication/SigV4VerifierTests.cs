using System.Security.Cryptography;
using System.Text;
using Fleetkey.Api.Authentication;
using Fleetkey.Core.Errors;
using Microsoft.Extensions.Primitives;
using Xunit;
using static Fleetkey.Api.Tests.Authentication.BotocoreIotVectorTests;

namespace Fleetkey.Api.Tests.Authentication;

/// <summary>
/// The failures of the Authorization header, with the codes and words AWS answers with, in AWS's
/// order of checks. The base request is botocore's signed ListThings.
/// </summary>
public sealed class SigV4VerifierTests
{
    private const string Credential = "Credential=AKIAFLEETKEYTEST0001/20250314/us-east-1/iot/aws4_request";
    private const string Signature = "Signature=0914de4033f7654059ec3ff4847e67e954b191de564194d49f67a71cbff03c76";

    private static SigV4Request Base => BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest();

    [Fact]
    public async Task VerifyAsync_NoAuthorizationHeader_FailsWithMissingAuthenticationToken()
    {
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret));

        var result = await VerifyAsync(Base.WithoutHeader("Authorization"), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.MissingAuthentication, ErrorCode.MissingAuthenticationToken, "Missing Authentication Token");
        Assert.Equal(0, secrets.Lookups);
    }

    [Fact]
    public async Task VerifyAsync_PresignedQueryWithoutAuthorizationHeader_FailsWithMissingAuthenticationToken()
    {
        var request = Base.WithoutHeader("Authorization") with
        {
            RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAFLEETKEYTEST0001%2F20250314%2Fus-east-1%2Fiot%2Faws4_request"
                + "&X-Amz-Date=20250314T150926Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=" + new string('a', 64),
        };

        var result = await VerifyAsync(request);

        AssertFailure(result, SigV4FailureKind.MissingAuthentication, ErrorCode.MissingAuthenticationToken, "Missing Authentication Token");
    }

    [Theory]
    [InlineData("Bearer eyJhbGciOiJIUzI1NiJ9.e30.x")]
    [InlineData("Basic QUtJRDpzZWNyZXQ=")]
    [InlineData("AWS AKIAFLEETKEYTEST0001:c2lnbmF0dXJl")]
    [InlineData("")]
    public async Task VerifyAsync_NonSigV4Authorization_FailsWithMissingAuthenticationToken(string authorization)
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization));

        AssertFailure(result, SigV4FailureKind.MissingAuthentication, ErrorCode.MissingAuthenticationToken, "Missing Authentication Token");
    }

    [Fact]
    public async Task VerifyAsync_OtherAws4Algorithm_FailsWithUnsupportedAlgorithm()
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-ECDSA-P256-SHA256 {Credential}, SignedHeaders=host;x-amz-date, {Signature}"));

        AssertFailure(result, SigV4FailureKind.UnsupportedAlgorithm, ErrorCode.IncompleteSignature, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.");
    }

    [Fact]
    public async Task VerifyAsync_PairWithoutEqualSign_FailsWithHashedHeaderInMessage()
    {
        const string authorization = "AWS4-HMAC-SHA256 FooBar, BazBurp";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization));

        AssertFailure(
            result,
            SigV4FailureKind.MalformedAuthorization,
            ErrorCode.IncompleteSignature,
            $"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{Sha256Base64(authorization)}'.");
        Assert.DoesNotContain("FooBar", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_TwoAuthorizationHeaders_FailsWithIncompleteSignature()
    {
        var authorization = BotocoreIotVectors.ListThingsWithEncodedQuery.Headers.Single(h => h.Name == "Authorization").Value;
        var request = Base with { Headers = [.. Base.Headers, new("Authorization", authorization)] };

        var result = await VerifyAsync(request);

        Assert.Equal(SigV4FailureKind.MalformedAuthorization, result.Failure);
        Assert.Same(ErrorCode.IncompleteSignature, result.Code);
    }

    [Fact]
    public async Task VerifyAsync_NoParametersAndNoDate_ListsEveryMissingPartInAwsOrder()
    {
        const string authorization = "AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp";
        var request = Base.WithoutHeader("X-Amz-Date").WithHeader("Authorization", authorization);

        var result = await VerifyAsync(request);

        AssertFailure(
            result,
            SigV4FailureKind.MissingAuthorizationParts,
            ErrorCode.IncompleteSignature,
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "
            + "Authorization header requires 'SignedHeaders' parameter. "
            + "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            + $"(Hashed with SHA-256 and encoded with Base64) Authorization={Sha256Base64(authorization)}");
    }

    [Fact]
    public async Task VerifyAsync_OnlySignatureMissing_NamesOnlySignature()
    {
        var authorization = $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=host;x-amz-date";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization));

        AssertFailure(
            result,
            SigV4FailureKind.MissingAuthorizationParts,
            ErrorCode.IncompleteSignature,
            $"Authorization header requires 'Signature' parameter. (Hashed with SHA-256 and encoded with Base64) Authorization={Sha256Base64(authorization)}");
    }

    [Fact]
    public async Task VerifyAsync_HostNotSigned_FailsWithHostMustBeSigned()
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=x-amz-date, {Signature}"));

        AssertFailure(result, SigV4FailureKind.HeaderNotSigned, ErrorCode.InvalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Fact]
    public async Task VerifyAsync_AmzDateNotSigned_FailsWithDateMustBeSigned()
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=host, {Signature}"));

        AssertFailure(result, SigV4FailureKind.HeaderNotSigned, ErrorCode.InvalidSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Theory]
    [InlineData("2025/03/14T15/09/26Z")]
    [InlineData("20250314T150926")]
    [InlineData("Fri, 14 Mar 2025 15:09:26 GMT")]
    public async Task VerifyAsync_AmzDateNotBasicFormat_FailsWithMalformedDate(string amzDate)
    {
        var result = await VerifyAsync(Base.WithHeader("X-Amz-Date", amzDate));

        AssertFailure(
            result,
            SigV4FailureKind.MalformedDate,
            ErrorCode.IncompleteSignature,
            $"Date must be in ISO-8601 'basic format'. Got '{amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601");
    }

    [Fact]
    public async Task VerifyAsync_CredentialNotFiveParts_FailsWithIncompleteSignature()
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001, SignedHeaders=host;x-amz-date, {Signature}"));

        AssertFailure(
            result,
            SigV4FailureKind.MalformedCredential,
            ErrorCode.IncompleteSignature,
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAFLEETKEYTEST0001'");
    }

    [Fact]
    public async Task VerifyAsync_CredentialScopedToOtherService_FailsWithCorrectServiceMessage()
    {
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret));
        var authorization = $"AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, {Signature}";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.InvalidCredentialScope, ErrorCode.InvalidSignature, "Credential should be scoped to correct service: 'iot'. ");
        Assert.Equal(0, secrets.Lookups);
    }

    [Fact]
    public async Task VerifyAsync_EveryScopePartWrong_ListsEveryScopeErrorInAwsOrder()
    {
        var authorization = $"AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/foobar/Wrong_Region/s3/aws5_request, SignedHeaders=host;x-amz-date, {Signature}";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization));

        AssertFailure(
            result,
            SigV4FailureKind.InvalidCredentialScope,
            ErrorCode.InvalidSignature,
            "Credential should be scoped to a valid region, not 'Wrong_Region'. "
            + "Credential should be scoped to correct service: 'iot'. "
            + "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
            + "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'foobar' != '20250314', from '20250314T150926Z'.");
    }

    [Theory]
    [InlineData("not-a-region")]
    [InlineData("local")]
    [InlineData("us-east")]
    public async Task VerifyAsync_CredentialScopedToNoAwsRegion_FailsWithValidRegionMessage(string region)
    {
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret));
        var authorization = $"AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/{region}/iot/aws4_request, SignedHeaders=host;x-amz-date, {Signature}";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.InvalidCredentialScope, ErrorCode.InvalidSignature, $"Credential should be scoped to a valid region, not '{region}'. ");
        Assert.Equal(0, secrets.Lookups);
    }

    [Fact]
    public async Task VerifyAsync_ScopeDateOtherThanRequestDate_FailsWithDateMismatch()
    {
        var authorization = $"AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250313/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, {Signature}";

        var result = await VerifyAsync(Base.WithHeader("Authorization", authorization));

        AssertFailure(
            result,
            SigV4FailureKind.InvalidCredentialScope,
            ErrorCode.InvalidSignature,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20250313' != '20250314', from '20250314T150926Z'.");
    }

    [Fact]
    public async Task VerifyAsync_ExpiredAndUnknownKey_ReportsExpiryWithoutLookingUpTheKey()
    {
        var secrets = new InMemorySecrets();

        var result = await VerifyAsync(Base, now: BotocoreIotVectors.SignedAt.AddHours(1), secrets: secrets);

        Assert.Equal(SigV4FailureKind.SignatureExpired, result.Failure);
        Assert.Equal(0, secrets.Lookups);
    }

    [Fact]
    public async Task VerifyAsync_SecurityTokenHeader_FailsWithUnrecognizedClientWithoutLookup()
    {
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret));

        var result = await VerifyAsync(Base.WithHeader("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLE"), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.SessionTokenNotSupported, ErrorCode.UnrecognizedClient, "The security token included in the request is invalid.");
        Assert.Equal(0, secrets.Lookups);
    }

    [Theory]
    [InlineData("0914de4033f7654059ec3ff4847e67e954b191de564194d49f67a71cbff03c7")]
    [InlineData("0914de4033f7654059ec3ff4847e67e954b191de564194d49f67a71cbff03c76ff")]
    [InlineData("zz14de4033f7654059ec3ff4847e67e954b191de564194d49f67a71cbff03c76")]
    public async Task VerifyAsync_SignatureNotSixtyFourHexDigits_FailsWithSignatureMismatch(string signature)
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=host;x-amz-date, Signature={signature}"));

        AssertFailure(result, SigV4FailureKind.SignatureMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch);
    }

    [Fact]
    public async Task VerifyAsync_AuthorizationWithoutSpacesAfterCommas_Succeeds()
    {
        var result = await VerifyAsync(Base.WithHeader("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=host;x-amz-date,{Signature}"));

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Fact]
    public async Task VerifyAsync_HeaderNamesInAnyCase_Succeeds()
    {
        var request = Base with
        {
            Headers = [.. Base.Headers.Select(h => new KeyValuePair<string, StringValues>(h.Key.ToUpperInvariant(), h.Value))],
        };

        var result = await VerifyAsync(request);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Fact]
    public async Task VerifyAsync_SignedDateHeaderInsteadOfAmzDate_Succeeds()
    {
        // Signed independently (Python hmac/hashlib) over: GET /things, date;host, service iot, us-east-1.
        var request = SigV4TestRequests.Create(
            "GET",
            "/things",
            "",
            [
                ("Host", "127.0.0.1:5080"),
                ("Date", "Fri, 14 Mar 2025 15:09:26 GMT"),
                ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAFLEETKEYTEST0001/20250314/us-east-1/iot/aws4_request, SignedHeaders=date;host, Signature=aa32c88e9c6817273a6a0741a9c9f1811c29e0b8f53aeb2eab83d6062ffc0f78"),
            ],
            []);

        var result = await VerifyAsync(request);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
        Assert.Equal(new SigV4Identity(BotocoreIotVectors.AccessKeyId, "us-east-1"), result.Identity);
    }

    [Fact]
    public async Task VerifyAsync_DateHeaderNotSigned_FailsWithDateMustBeSigned()
    {
        var request = SigV4TestRequests.Create(
            "GET",
            "/things",
            "",
            [
                ("Host", "127.0.0.1:5080"),
                ("Date", "Fri, 14 Mar 2025 15:09:26 GMT"),
                ("Authorization", $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=host, {Signature}"),
            ],
            []);

        var result = await VerifyAsync(request);

        AssertFailure(result, SigV4FailureKind.HeaderNotSigned, ErrorCode.InvalidSignature, "'Date' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Fact]
    public async Task VerifyAsync_AmzDatePresent_TakesPrecedenceOverDate()
    {
        var result = await VerifyAsync(Base.WithHeader("Date", "Mon, 01 Jan 2001 00:00:00 GMT"));

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    private static string Sha256Base64(string value) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

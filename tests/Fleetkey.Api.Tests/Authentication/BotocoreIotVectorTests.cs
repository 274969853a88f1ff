using Fleetkey.Api.Authentication;
using Fleetkey.Core.Errors;
using Xunit;

namespace Fleetkey.Api.Tests.Authentication;

/// <summary>Requests signed by real botocore for service <c>iot</c>, and the same requests tampered with.</summary>
public sealed class BotocoreIotVectorTests
{
    public static TheoryData<string> Names => [.. BotocoreIotVectors.All.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task VerifyAsync_BotocoreSignedRequest_SucceedsWithScopeRegion(string name)
    {
        var vector = BotocoreIotVectors.Get(name);

        var result = await VerifyAsync(vector.ToRequest());

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
        Assert.Equal(new SigV4Identity(BotocoreIotVectors.AccessKeyId, vector.Region), result.Identity);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task VerifyAsync_HostHeaderChanged_FailsWithSignatureMismatch(string name)
    {
        var request = BotocoreIotVectors.Get(name).ToRequest().WithHeader("Host", "127.0.0.1:5081");

        await AssertSignatureMismatchAsync(request);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task VerifyAsync_WrongSecret_FailsWithSignatureMismatch(string name)
    {
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret[..^1] + "h"));

        var result = await VerifyAsync(BotocoreIotVectors.Get(name).ToRequest(), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.SignatureMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task VerifyAsync_SixMinutesAfterSigning_FailsWithSignatureExpired(string name)
    {
        var result = await VerifyAsync(BotocoreIotVectors.Get(name).ToRequest(), now: BotocoreIotVectors.SignedAt.AddMinutes(6));

        AssertFailure(
            result,
            SigV4FailureKind.SignatureExpired,
            ErrorCode.InvalidSignature,
            "Signature expired: 20250314T150926Z is now earlier than 20250314T151026Z (20250314T151526Z - 5 min.)");
    }

    [Fact]
    public async Task VerifyAsync_SixMinutesBeforeSigning_FailsWithSignatureNotYetCurrent()
    {
        var result = await VerifyAsync(
            BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest(), now: BotocoreIotVectors.SignedAt.AddMinutes(-6));

        AssertFailure(
            result,
            SigV4FailureKind.SignatureNotYetCurrent,
            ErrorCode.InvalidSignature,
            "Signature not yet current: 20250314T150926Z is still later than 20250314T150826Z (20250314T150326Z + 5 min.)");
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    [InlineData(300.999)]
    public async Task VerifyAsync_WithinFiveMinutesOfSigning_Succeeds(double offsetSeconds)
    {
        var result = await VerifyAsync(
            BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest(), now: BotocoreIotVectors.SignedAt.AddSeconds(offsetSeconds));

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public async Task VerifyAsync_MoreThanFiveMinutesFromSigning_FailsWithInvalidSignature(double offsetSeconds)
    {
        var result = await VerifyAsync(
            BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest(), now: BotocoreIotVectors.SignedAt.AddSeconds(offsetSeconds));

        Assert.Same(ErrorCode.InvalidSignature, result.Code);
        Assert.Contains(result.Failure, new[] { SigV4FailureKind.SignatureExpired, SigV4FailureKind.SignatureNotYetCurrent });
    }

    [Fact]
    public async Task VerifyAsync_BodyByteFlipped_FailsWithSignatureMismatch()
    {
        var vector = BotocoreIotVectors.CreateThingWithJsonBody;
        var body = vector.Body;
        body[10] ^= 0x01;

        var request = vector.ToRequest() with { PayloadHash = SigV4TestRequests.Hash(body) };

        await AssertSignatureMismatchAsync(request);
    }

    [Fact]
    public async Task VerifyAsync_SignedHeaderValueChanged_FailsWithSignatureMismatch()
    {
        var request = BotocoreIotVectors.AttachThingPrincipalWithHeader.ToRequest()
            .WithHeader("x-amzn-principal", "arn:aws:iot:us-west-2:000000000000:cert/" + new string('e', 64));

        await AssertSignatureMismatchAsync(request);
    }

    [Fact]
    public async Task VerifyAsync_UnsignedHeaderChanged_Succeeds()
    {
        var request = BotocoreIotVectors.CreateThingWithJsonBody.ToRequest().WithHeader("User-Agent", "something-else/1.0");

        var result = await VerifyAsync(request);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Fact]
    public async Task VerifyAsync_QueryValueChanged_FailsWithSignatureMismatch()
    {
        var request = BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest() with
        {
            RawQuery = "attributeName=color&attributeValue=a%20b%2Fd&maxResults=10",
        };

        await AssertSignatureMismatchAsync(request);
    }

    [Fact]
    public async Task VerifyAsync_QueryParametersReordered_Succeeds()
    {
        var request = BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest() with
        {
            RawQuery = "maxResults=10&attributeValue=a%20b%2Fc&attributeName=color",
        };

        var result = await VerifyAsync(request);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Fact]
    public async Task VerifyAsync_LabelSentUnencoded_FailsWithSignatureMismatch()
    {
        // botocore signed the double-encoded /things/thing%253A1; a path that differs on the wire differs in the signature.
        var request = BotocoreIotVectors.DescribeThingWithColonInLabel.ToRequest() with { RawPath = "/things/thing:1" };

        await AssertSignatureMismatchAsync(request);
    }

    [Fact]
    public async Task VerifyAsync_MethodChanged_FailsWithSignatureMismatch()
    {
        var request = BotocoreIotVectors.DeleteThingWithQuery.ToRequest() with { Method = "GET" };

        await AssertSignatureMismatchAsync(request);
    }

    [Fact]
    public async Task VerifyAsync_UnknownAccessKey_FailsWithUnrecognizedClient()
    {
        var secrets = new InMemorySecrets(("AKIAOTHERKEY00000000", BotocoreIotVectors.Secret));

        var result = await VerifyAsync(BotocoreIotVectors.CreateThingWithJsonBody.ToRequest(), secrets: secrets);

        AssertFailure(result, SigV4FailureKind.UnknownAccessKey, ErrorCode.UnrecognizedClient, "The security token included in the request is invalid.");
        Assert.Equal(BotocoreIotVectors.AccessKeyId, result.AccessKeyId);
    }

    [Fact]
    public async Task VerifyAsync_ContentSha256HeaderNotTheBodyHash_FailsWithSignatureMismatch()
    {
        var request = BotocoreIotVectors.CreateThingWithJsonBody.ToRequest().WithHeader("x-amz-content-sha256", "UNSIGNED-PAYLOAD");

        var result = await VerifyAsync(request);

        AssertFailure(result, SigV4FailureKind.PayloadHashMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch);
    }

    [Fact]
    public async Task VerifyAsync_ContentSha256HeaderEqualToBodyHash_Succeeds()
    {
        var request = BotocoreIotVectors.CreateThingWithJsonBody.ToRequest();
        request = request.WithHeader("x-amz-content-sha256", request.PayloadHash);

        var result = await VerifyAsync(request);

        Assert.True(result.Succeeded, $"{result.Failure}: {result.Message}");
    }

    [Fact]
    public async Task VerifyAsync_ServiceOtherThanExpected_FailsWithCorrectServiceMessage()
    {
        var result = await VerifyAsync(BotocoreIotVectors.ListThingsWithEncodedQuery.ToRequest(), service: "execute-api");

        AssertFailure(result, SigV4FailureKind.InvalidCredentialScope, ErrorCode.InvalidSignature, "Credential should be scoped to correct service: 'execute-api'. ");
    }

    [Fact]
    public async Task VerifyAsync_Failure_MessageNeverCarriesSecretOrSignatures()
    {
        var vector = BotocoreIotVectors.CreateThingWithJsonBody;
        var secrets = new InMemorySecrets((BotocoreIotVectors.AccessKeyId, "a-different-secret"));

        var result = await VerifyAsync(vector.ToRequest(), secrets: secrets);

        Assert.False(result.Succeeded);
        Assert.DoesNotContain("a-different-secret", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("f1fae6c019e9304e", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/things/thing%253A1", result.Message, StringComparison.Ordinal);
    }

    internal static ValueTask<SigV4Result> VerifyAsync(
        SigV4Request request,
        DateTimeOffset? now = null,
        InMemorySecrets? secrets = null,
        string service = "iot") =>
        SigV4Verifier.VerifyAsync(
            request,
            service,
            now ?? BotocoreIotVectors.SignedAt,
            secrets ?? new InMemorySecrets((BotocoreIotVectors.AccessKeyId, BotocoreIotVectors.Secret)),
            CancellationToken.None);

    internal static void AssertFailure(SigV4Result result, SigV4FailureKind kind, ErrorCode code, string message)
    {
        Assert.False(result.Succeeded);
        Assert.Equal(kind, result.Failure);
        Assert.Same(code, result.Code);
        Assert.Equal(message, result.Message);

        var exception = result.ToException();
        Assert.Same(code, exception.Code);
        Assert.Equal(message, exception.Message);
    }

    private static async Task AssertSignatureMismatchAsync(SigV4Request request)
    {
        var result = await VerifyAsync(request);

        AssertFailure(result, SigV4FailureKind.SignatureMismatch, ErrorCode.InvalidSignature, SigV4Messages.SignatureDoesNotMatch);
    }
}

using Fleetkey.Core.Errors;

namespace Fleetkey.Api.Authentication;

/// <summary>Why a request failed SigV4 verification; logged, never sent to the client.</summary>
internal enum SigV4FailureKind
{
    None = 0,
    MissingAuthentication,
    UnsupportedAlgorithm,
    MalformedAuthorization,
    MissingAuthorizationParts,
    HeaderNotSigned,
    MalformedDate,
    SignatureExpired,
    SignatureNotYetCurrent,
    MalformedCredential,
    InvalidCredentialScope,
    SessionTokenNotSupported,
    UnknownAccessKey,
    PayloadHashMismatch,
    SignatureMismatch,
}

/// <summary>
/// The outcome of <see cref="SigV4Verifier"/>: the identity on success; otherwise the AWS error
/// to answer with and, for the log, the failure kind and the access key id when it was readable.
/// </summary>
internal sealed class SigV4Result
{
    // The id comes from the client; a longer one is not a real key and is cut before it is logged.
    private const int MaxLoggedAccessKeyIdLength = 128;

    private SigV4Result(SigV4Identity? identity, SigV4FailureKind failure, ErrorCode? code, string? message, string? accessKeyId)
    {
        Identity = identity;
        Failure = failure;
        Code = code;
        Message = message;
        AccessKeyId = accessKeyId;
    }

    public SigV4Identity? Identity { get; }

    public SigV4FailureKind Failure { get; }

    public ErrorCode? Code { get; }

    public string? Message { get; }

    /// <summary>The access key id named by the credential, when the header got that far.</summary>
    public string? AccessKeyId { get; }

    public bool Succeeded => Identity is not null;

    public static SigV4Result Success(SigV4Identity identity) =>
        new(identity, SigV4FailureKind.None, null, null, identity.AccessKeyId);

    public static SigV4Result Fail(SigV4FailureKind failure, ErrorCode code, string message, string? accessKeyId = null) =>
        new(null, failure, code, message, accessKeyId is { Length: > MaxLoggedAccessKeyIdLength } ? accessKeyId[..MaxLoggedAccessKeyIdLength] : accessKeyId);

    /// <summary>The exception the error middleware renders to the AWS wire.</summary>
    public ServiceException ToException()
    {
        if (Code is null || Message is null)
        {
            throw new InvalidOperationException("A successful verification has no error.");
        }

        return new ServiceException(Code, Message);
    }
}

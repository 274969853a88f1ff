using Microsoft.Extensions.Logging;

namespace Fleetkey.Api.Authentication;

/// <summary>
/// Log events of SigV4 authentication. They name the access key id and the failure kind only:
/// never a secret, a signature or a canonical request.
/// </summary>
internal static partial class SigV4Log
{
    [LoggerMessage(EventId = 1, EventName = "SigV4AuthenticationFailed", Level = LogLevel.Information,
        Message = "SigV4 authentication failed: {FailureKind} (access key {AccessKeyId})")]
    public static partial void AuthenticationFailed(ILogger logger, SigV4FailureKind failureKind, string accessKeyId);

    [LoggerMessage(EventId = 2, EventName = "SigV4RequestBodyTooLarge", Level = LogLevel.Information,
        Message = "Request body refused before SigV4 verification: larger than {MaxBodyBytes} bytes")]
    public static partial void RequestBodyTooLarge(ILogger logger, int maxBodyBytes);

    [LoggerMessage(EventId = 3, EventName = "SigV4Authenticated", Level = LogLevel.Debug,
        Message = "SigV4 authenticated access key {AccessKeyId} for region {Region}")]
    public static partial void Authenticated(ILogger logger, string accessKeyId, string region);
}

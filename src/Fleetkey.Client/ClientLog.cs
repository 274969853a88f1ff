using Microsoft.Extensions.Logging;

namespace Fleetkey.Client;

/// <summary>The client's log messages; none carries a secret, a signature or a private key.</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, EventName = "RetryingAfterError", Level = LogLevel.Warning,
        Message = "{Operation} answered {ErrorCode} (HTTP {StatusCode}) on attempt {Attempt} of {MaxAttempts}; retrying in {Delay}")]
    public static partial void RetryingAfterError(ILogger logger, string operation, string errorCode, int statusCode, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 2, EventName = "RetryingAfterConnectionFailure", Level = LogLevel.Warning,
        Message = "{Operation} failed to reach the service on attempt {Attempt} of {MaxAttempts}; retrying in {Delay}")]
    public static partial void RetryingAfterConnectionFailure(ILogger logger, Exception exception, string operation, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 3, EventName = "OperationFailed", Level = LogLevel.Debug,
        Message = "{Operation} answered {ErrorCode} (HTTP {StatusCode}, request {RequestId})")]
    public static partial void OperationFailed(ILogger logger, string operation, string errorCode, int statusCode, string? requestId);
}

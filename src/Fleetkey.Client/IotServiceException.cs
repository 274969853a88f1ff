using System.Net;

namespace Fleetkey.Client;

/// <summary>
/// An error answer of the service: the AWS error code (<c>x-amzn-ErrorType</c>, else the body's
/// <c>__type</c> or <c>code</c>), the message and the HTTP status. Each code of the AWS IoT model
/// has its own subclass (<see cref="ResourceNotFoundException"/>, <see cref="VersionConflictException"/>, …),
/// so that callers catch what they handle; any other code arrives as this class.
/// </summary>
public class IotServiceException : Exception
{
    /// <summary>Creates an error as the service would answer it, for fakes of <see cref="IIotClient"/>.</summary>
    public IotServiceException(string errorCode, string message, HttpStatusCode statusCode, string? requestId = null)
        : base(message)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
    }

    internal IotServiceException(IotErrorResponse response)
        : this(response.ErrorCode, response.Message, response.StatusCode, response.RequestId)
    {
    }

    /// <summary>The AWS error code, e.g. <c>ResourceNotFoundException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The service's <c>x-amzn-RequestId</c>, which finds the request in its log.</summary>
    public string? RequestId { get; }

    /// <summary>Whether the client retries this error: throttling (HTTP 429 or a throttling code) and HTTP 5xx.</summary>
    public bool IsRetryable => RetryPolicy.IsRetryable(StatusCode, ErrorCode);
}

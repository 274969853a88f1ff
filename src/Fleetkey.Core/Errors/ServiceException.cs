namespace Fleetkey.Core.Errors;

/// <summary>
/// The one error type of Fleetkey's application layer. It carries the AWS error code, the message
/// the client sees and, for the shapes that model them, the resource id and ARN. The HTTP adapter
/// maps it to the wire in one place; the MQTT adapter maps it to a rejected payload.
/// </summary>
public sealed class ServiceException : Exception
{
    public ServiceException(ErrorCode code, string message, string? resourceId = null, string? resourceArn = null)
        : base(message)
    {
        Code = code;
        ResourceId = resourceId;
        ResourceArn = resourceArn;
    }

    public ErrorCode Code { get; }

    public string? ResourceId { get; }

    public string? ResourceArn { get; }
}

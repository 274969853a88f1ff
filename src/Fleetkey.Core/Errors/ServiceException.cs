using Fleetkey.Core.Naming;

namespace Fleetkey.Core.Errors;

/// <summary>
/// The one error type of Fleetkey's application layer. It carries the AWS error code, the message
/// the client sees and, for the shapes that model them, the resource id and ARN. The HTTP adapter
/// maps it to the wire in one place; the MQTT adapter maps it to a rejected payload.
/// </summary>
public sealed class ServiceException : Exception
{
    public ServiceException(ErrorCode code, string message, string? resourceId = null, ResourceRef? resource = null)
        : base(message)
    {
        Code = code;
        ResourceId = resourceId;
        Resource = resource;
    }

    public ErrorCode Code { get; }

    public string? ResourceId { get; }

    /// <summary>
    /// The resource the error is about; the adapter renders its ARN in the caller's region (the
    /// application layer does not know the region a request was signed for).
    /// </summary>
    public ResourceRef? Resource { get; }
}

/// <summary>A resource by kind and name, from which an ARN is made in a given scope.</summary>
public sealed record ResourceRef(ResourceKind Kind, string Name);

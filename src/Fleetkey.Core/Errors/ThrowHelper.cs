using System.Diagnostics.CodeAnalysis;

namespace Fleetkey.Core.Errors;

/// <summary>Throws for the common error shapes, keeping throw sites out of hot methods.</summary>
public static class ThrowHelper
{
    [DoesNotReturn]
    public static void NotFound(string message) => throw new ServiceException(ErrorCode.ResourceNotFound, message);

    [DoesNotReturn]
    public static T NotFound<T>(string message) => throw new ServiceException(ErrorCode.ResourceNotFound, message);

    [DoesNotReturn]
    public static void InvalidRequest(string message) => throw new ServiceException(ErrorCode.InvalidRequest, message);

    [DoesNotReturn]
    public static void AlreadyExists(string message, string? resourceId = null, ResourceRef? resource = null) =>
        throw new ServiceException(ErrorCode.ResourceAlreadyExists, message, resourceId, resource);

    [DoesNotReturn]
    public static void VersionConflict(string message) => throw new ServiceException(ErrorCode.VersionConflict, message);

    [DoesNotReturn]
    public static void LimitExceeded(string message) => throw new ServiceException(ErrorCode.LimitExceeded, message);
}

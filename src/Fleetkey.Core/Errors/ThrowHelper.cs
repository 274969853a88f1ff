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

    /// <summary>
    /// Throws one InvalidRequestException for every validation problem, as AWS words them:
    /// "2 validation errors detected: …; …". Returns when there is no problem.
    /// </summary>
    public static void ThrowIfInvalid(IReadOnlyCollection<string> problems)
    {
        if (problems.Count > 0)
        {
            InvalidRequest(
                (problems.Count == 1 ? "1 validation error detected: " : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{problems.Count} validation errors detected: "))
                + string.Join("; ", problems));
        }
    }

    [DoesNotReturn]
    public static void AlreadyExists(string message, string? resourceId = null, ResourceRef? resource = null) =>
        throw new ServiceException(ErrorCode.ResourceAlreadyExists, message, resourceId, resource);

    [DoesNotReturn]
    public static void VersionConflict(string message) => throw new ServiceException(ErrorCode.VersionConflict, message);

    [DoesNotReturn]
    public static void LimitExceeded(string message) => throw new ServiceException(ErrorCode.LimitExceeded, message);
}

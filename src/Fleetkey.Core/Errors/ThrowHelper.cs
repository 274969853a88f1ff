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

    /// <summary>The most problems one message lists; the count still says how many there were.</summary>
    public const int MaxListedProblems = 100;

    /// <summary>
    /// Throws one InvalidRequestException for every validation problem, as AWS words them:
    /// "2 validation errors detected: …; …". Returns when there is no problem.
    /// </summary>
    /// <remarks>
    /// A body of a megabyte can hold a hundred thousand invalid list items; listing them all would answer
    /// it with tens of megabytes, so past <see cref="MaxListedProblems"/> the rest are only counted.
    /// </remarks>
    public static void ThrowIfInvalid(IReadOnlyCollection<string> problems)
    {
        if (problems.Count > 0)
        {
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            var listed = string.Join("; ", problems.Take(MaxListedProblems));
            if (problems.Count > MaxListedProblems)
            {
                listed += string.Create(invariant, $"; (and {problems.Count - MaxListedProblems} more)");
            }

            InvalidRequest(
                (problems.Count == 1 ? "1 validation error detected: " : string.Create(invariant, $"{problems.Count} validation errors detected: "))
                + listed);
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

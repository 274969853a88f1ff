using Fleetkey.Core.Errors;

namespace Fleetkey.Services.Registry;

/// <summary>Optimistic concurrency on versioned resources (things, thing groups).</summary>
internal static class Versions
{
    /// <summary>Throws VersionConflict when the caller expected another version than the stored one.</summary>
    public static void EnsureExpected(long? expected, long actual, string resource, string name)
    {
        if (expected is not null && expected != actual)
        {
            ThrowHelper.VersionConflict($"The version for {resource} {name} does not match the expected version.");
        }
    }
}

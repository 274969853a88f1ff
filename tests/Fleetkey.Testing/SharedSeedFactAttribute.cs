using Xunit;

namespace Fleetkey.Testing;

/// <summary>
/// A fact that needs <c>file</c> of the seed beside the repository (<see cref="SharedSeed"/>): reported
/// Skipped, with the reason, when the file is absent (outside CI). xunit reads Skip from the attribute
/// instance, so setting it here decides before the test is run.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SharedSeedFactAttribute : FactAttribute
{
    public SharedSeedFactAttribute(string file)
    {
        SeedFile = file;
        Skip = SharedSeed.SkipReason(file);
    }

    /// <summary>The seed file the test needs, e.g. register-thing.js.</summary>
    public string SeedFile { get; }
}

namespace Fleetkey.Testing;

/// <summary>
/// The user's original code (the seed: register-thing.js on aws-sdk v2 and its template), which lives
/// outside the repository in ../shared/seed. Only tests that run the seed's own JavaScript need it
/// (tests/seed also holds the repository's copy of its template to the original); everything else
/// reads <see cref="RepositoryFiles"/>.
/// A clone without ../shared skips those tests (<see cref="SharedSeedFactAttribute"/>); CI always has
/// it, so there (CI=true) nothing is skipped and a missing seed fails the tests that need it.
/// </summary>
public static class SharedSeed
{
    /// <summary>../shared/seed beside the repository root, as a full path.</summary>
    public static string Directory { get; } = Path.GetFullPath(Path.Combine(RepositoryFiles.Root, "..", "shared", "seed"));

    /// <summary>The full path of <paramref name="file"/> of the seed; throws, saying where the seed belongs, when it is absent.</summary>
    public static string PathOf(string file)
    {
        var path = Path.Combine(Directory, file);
        return File.Exists(path) ? path : throw new FileNotFoundException(MissingMessage(file), path);
    }

    /// <summary>Why a test that needs <paramref name="file"/> of the seed is skipped, or null when it runs (the file is there, or this is CI).</summary>
    public static string? SkipReason(string file) =>
        File.Exists(Path.Combine(Directory, file)) || InCi ? null : MissingMessage(file);

    private static string MissingMessage(string file) =>
        $"../shared/seed/{file} not found (the seed's original code lives beside the repository; CI always has it)";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

namespace Fleetkey.Testing;

/// <summary>
/// Files of this repository, found from the test's output folder: the root is the folder holding
/// Fleetkey.slnx. Tests read the repository's own copies; the seed beside the repository is
/// <see cref="SharedSeed"/>'s business.
/// </summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The seed's provisioning template, verbatim, as the repository keeps it
    /// (src/Fleetkey.Client/register-thing-template-body.json, Fleetkey.Client's embedded default).
    /// </summary>
    public static string SeedTemplateBodyPath { get; } = Path.Combine(Root, "src", "Fleetkey.Client", "register-thing-template-body.json");

    /// <summary>The text of <see cref="SeedTemplateBodyPath"/>, with its newlines: what the seed's JSON file holds.</summary>
    public static string SeedTemplateBody => SeedTemplateBodyText.Value;

    // After the paths: static initializers run in the order they are written.
    private static readonly Lazy<string> SeedTemplateBodyText = new(() => File.ReadAllText(SeedTemplateBodyPath));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Fleetkey.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Fleetkey.slnx above {AppContext.BaseDirectory}.");
    }
}

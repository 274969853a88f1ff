namespace Fleetkey.Services.Access;

/// <summary>
/// The identity policies Fleetkey ships (the repository's <c>policies/</c> folder, embedded): <c>provisioner</c>
/// (exactly what the seed's registerThing/unregisterThing call), <c>read-only</c>, <c>enrollment-operator</c> and
/// <c>admin</c>. <c>fleetkey keys create --policy NAME</c> takes them by name.
/// </summary>
public static class ShippedPolicies
{
    public static readonly IReadOnlyList<string> Names = ["provisioner", "read-only", "enrollment-operator", "admin"];

    /// <summary>The document of a shipped policy, or null when <paramref name="name"/> is not one.</summary>
    public static string? Find(string name)
    {
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            return null;
        }

        using var stream = typeof(ShippedPolicies).Assembly.GetManifestResourceStream($"Fleetkey.ShippedPolicies.{name}.json")
            ?? throw new InvalidOperationException($"The shipped policy {name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

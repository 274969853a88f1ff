namespace Fleetkey.Core.Registry;

/// <summary>A thing as the registry keeps it. Attribute names are unique and ordinal-sorted.</summary>
public sealed record Thing(
    string Name,
    string ThingId,
    string? TypeName,
    IReadOnlyDictionary<string, string> Attributes,
    long Version,
    DateTimeOffset CreatedAt);

public sealed record ThingType(
    string Name,
    string ThingTypeId,
    string? Description,
    IReadOnlyList<string> SearchableAttributes,
    string? Mqtt5ConfigurationJson,
    bool Deprecated,
    DateTimeOffset? DeprecatedAt,
    DateTimeOffset CreatedAt);

/// <summary>
/// A static thing group. <see cref="Path"/> holds the names from the root down to this group,
/// joined by '/', which no group name may contain; it gives the ancestors and the descendants of a
/// group without a recursive query.
/// </summary>
public sealed record ThingGroup(
    string Name,
    string ThingGroupId,
    string? ParentName,
    string Path,
    string? Description,
    IReadOnlyDictionary<string, string> Attributes,
    long Version,
    DateTimeOffset CreatedAt)
{
    public int Depth => Path.Count(c => c == '/') + 1;

    public string RootName => Path.Split('/')[0];

    /// <summary>The ancestors' names, root first, not including this group.</summary>
    public IReadOnlyList<string> Ancestors
    {
        get
        {
            var names = Path.Split('/');
            return names[..^1];
        }
    }
}

public sealed record Tag(string Key, string Value);

public sealed record ThingQuery(
    string? AttributeName,
    string? AttributeValue,
    bool UsePrefixAttributeValue,
    string? TypeName);

public sealed record AccessKey(string AccessKeyId, string SecretAccessKey, string? Description, DateTimeOffset CreatedAt);

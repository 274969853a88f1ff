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

/// <summary>
/// A control-plane access key. In the store <see cref="SecretAccessKey"/> (and the previous secret) may be
/// sealed under the CA passphrase: then <see cref="SecretKekSalt"/> is set and the secret is the sealed
/// bytes in base64; the services hand out keys with the secret opened and the salt null.
/// </summary>
public sealed record AccessKey(string AccessKeyId, string SecretAccessKey, string? Description, DateTimeOffset CreatedAt)
{
    public const string Active = "Active";
    public const string Inactive = "Inactive";

    public string Status { get; init; } = Active;

    /// <summary>The root key: allowed everything, no policy evaluated.</summary>
    public bool FullAccess { get; init; }

    public string? SecretKekSalt { get; init; }

    /// <summary>The secret a rotation replaced, accepted until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousSecretAccessKey { get; init; }

    public string? PreviousSecretKekSalt { get; init; }

    public DateTimeOffset? PreviousSecretExpiresAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>Where the key was last used from: the request's source address.</summary>
    public string? LastUsedSource { get; init; }

    /// <summary>The identity policies attached to the key, by name.</summary>
    public IReadOnlyList<AccessKeyPolicy> Policies { get; init; } = [];

    // Value equality, the policies compared by content (a record would compare the list's reference).
    public bool Equals(AccessKey? other) =>
        other is not null
        && AccessKeyId == other.AccessKeyId && SecretAccessKey == other.SecretAccessKey && Description == other.Description && CreatedAt == other.CreatedAt
        && Status == other.Status && FullAccess == other.FullAccess && SecretKekSalt == other.SecretKekSalt
        && PreviousSecretAccessKey == other.PreviousSecretAccessKey && PreviousSecretKekSalt == other.PreviousSecretKekSalt
        && PreviousSecretExpiresAt == other.PreviousSecretExpiresAt && LastUsedAt == other.LastUsedAt && LastUsedSource == other.LastUsedSource
        && Policies.SequenceEqual(other.Policies);

    public override int GetHashCode() => HashCode.Combine(AccessKeyId, CreatedAt, Status, Policies.Count);
}

/// <summary>An identity policy attached to an access key: IAM's grammar, decided for <c>iot:</c> and <c>fleetkey:</c> actions.</summary>
public sealed record AccessKeyPolicy(string PolicyName, string Document, DateTimeOffset AttachedAt);

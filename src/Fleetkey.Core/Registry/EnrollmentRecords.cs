namespace Fleetkey.Core.Registry;

/// <summary>
/// An enrollment group (the Azure DPS model): every serial number matching
/// <see cref="SerialNumberPattern"/> (every serial when null) may register with the device secret
/// HMAC-SHA256(groupKey, serialNumber). The group key is kept as stored: <see cref="GroupKeyData"/> is
/// the 32-byte key in the clear when <see cref="GroupKeyKekSalt"/> is null, else the key sealed under
/// the CA passphrase (see <c>Fleetkey.Pki.PassphraseSealer</c>). <see cref="Region"/> is the region of
/// the signed request that created it (null: unknown, the installation's default region applies); its
/// ARN and the ARNs the device endpoint gives its devices are in that region.
/// </summary>
public sealed record EnrollmentGroup(
    string Name,
    string TemplateName,
    string? SerialNumberPattern,
    bool AllowReprovisioning,
    bool Enabled,
    IReadOnlyDictionary<string, string> Parameters,
    byte[] GroupKeyData,
    byte[]? GroupKeyKekSalt,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt,
    string? Region = null);

/// <summary>
/// An individual enrollment: one serial number with its own 32-byte device secret, kept as
/// <see cref="EnrollmentGroup"/> keeps its key, and in a region as a group is. It wins over every group
/// for its serial number.
/// </summary>
public sealed record Enrollment(
    string SerialNumber,
    string TemplateName,
    bool AllowReprovisioning,
    bool Enabled,
    IReadOnlyDictionary<string, string> Parameters,
    byte[] SecretData,
    byte[]? SecretKekSalt,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastModifiedAt,
    string? Region = null);

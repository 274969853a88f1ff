using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Device secrets and enrollment group keys: 32 random bytes, carried base64-encoded. A device of an
/// enrollment group has the secret HMAC-SHA256(groupKey, UTF-8 serialNumber) (the Azure DPS model),
/// so a factory derives each device's secret from the group key without a per-device record.
/// </summary>
public static class EnrollmentSecrets
{
    /// <summary>The length of a device secret and of a group key.</summary>
    public const int Length = 32;

    /// <summary>A new secret or group key from the operating system's CSPRNG.</summary>
    public static byte[] Generate() => RandomNumberGenerator.GetBytes(Length);

    /// <summary>The device secret of <paramref name="serialNumber"/> in the group with <paramref name="groupKey"/>.</summary>
    public static byte[] DeriveDeviceSecret(ReadOnlySpan<byte> groupKey, string serialNumber) =>
        HMACSHA256.HashData(groupKey, Encoding.UTF8.GetBytes(serialNumber));

    /// <summary>Decodes a base64 secret of exactly 32 bytes; null when it is not one (the text is never echoed).</summary>
    public static byte[]? TryParse(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var buffer = new byte[Length + 3];
        if (!Convert.TryFromBase64String(base64.Trim(), buffer, out var written) || written != Length)
        {
            CryptographicOperations.ZeroMemory(buffer);
            return null;
        }

        var secret = buffer[..Length];
        CryptographicOperations.ZeroMemory(buffer);
        return secret;
    }

    /// <summary>Whether two secrets are equal, in time independent of where they differ.</summary>
    public static bool AreEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => CryptographicOperations.FixedTimeEquals(a, b);

    // What a sealed key or secret is bound to: a value copied to another row does not open there.
    internal static byte[] GroupKeyContext(string groupName) => Encoding.UTF8.GetBytes("fleetkey:enrollment-group:" + groupName);

    internal static byte[] DeviceSecretContext(string serialNumber) => Encoding.UTF8.GetBytes("fleetkey:enrollment:" + serialNumber);
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fleetkey.Services.Devices;

/// <summary>
/// The device endpoint's credential, in the Azure IoT Hub / DPS shape:
/// <c>Authorization: SharedAccessSignature sr=SERIAL&amp;se=EXPIRY&amp;sig=SIGNATURE</c>.
/// </summary>
/// <remarks>
/// <para>The signed bytes are the UTF-8 of the decoded serial number, a line feed (0x0A) and the
/// expiry as Unix seconds in decimal ASCII without sign or leading zeros as sent (the <c>se</c> text
/// itself is signed, so <c>se=0100</c> signs "0100"): <c>sr + "\n" + se</c>. The signature is
/// HMAC-SHA256 keyed with the device secret's bytes (the base64-decoded secret an enrollment shows),
/// base64-encoded (standard alphabet, padded).</para>
/// <para>The three fields come in any order, each exactly once, separated by <c>&amp;</c>; values are
/// percent-decoded (RFC 3986: <c>%2B</c> is "+", and a literal "+" stays "+", never a space, so a
/// signature sent without encoding still works).</para>
/// </remarks>
public sealed class SharedAccessSignature
{
    public const string Scheme = "SharedAccessSignature";

    /// <summary>Headers longer than this are refused unread (a serial is at most 128 characters).</summary>
    public const int MaxHeaderLength = 1024;

    public const int SignatureLength = 32;

    private SharedAccessSignature(string resource, string expiryText, long expiry, byte[] signature)
    {
        Resource = resource;
        ExpiryText = expiryText;
        Expiry = expiry;
        Signature = signature;
    }

    /// <summary>The decoded <c>sr</c>: the serial number the device claims.</summary>
    public string Resource { get; }

    /// <summary>The <c>se</c> text exactly as sent (it is what was signed).</summary>
    public string ExpiryText { get; }

    /// <summary>The expiry as Unix seconds.</summary>
    public long Expiry { get; }

    /// <summary>The decoded signature (32 bytes).</summary>
    public byte[] Signature { get; }

    /// <summary>Parses an Authorization header value; false for anything malformed (no reason: every failure answers the same).</summary>
    public static bool TryParse(string? header, [NotNullWhen(true)] out SharedAccessSignature? token)
    {
        token = null;
        if (header is null || header.Length > MaxHeaderLength
            || !header.StartsWith(Scheme + " ", StringComparison.Ordinal))
        {
            return false;
        }

        string? resource = null, expiry = null, signature = null;
        foreach (var field in header.AsSpan(Scheme.Length + 1).Trim().ToString().Split('&'))
        {
            var equals = field.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return false;
            }

            string value;
            try
            {
                value = Uri.UnescapeDataString(field[(equals + 1)..]);
            }
            catch (UriFormatException)
            {
                return false;
            }

            switch (field[..equals])
            {
                case "sr" when resource is null:
                    resource = value;
                    break;
                case "se" when expiry is null:
                    expiry = value;
                    break;
                case "sig" when signature is null:
                    signature = value;
                    break;
                default:
                    // An unknown or repeated field: a token two parties could read differently is refused.
                    return false;
            }
        }

        if (string.IsNullOrEmpty(resource) || string.IsNullOrEmpty(expiry) || string.IsNullOrEmpty(signature)
            || expiry.Length > 12 || !expiry.All(char.IsAsciiDigit)
            || !long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return false;
        }

        var bytes = new byte[SignatureLength];
        if (!Convert.TryFromBase64String(signature, bytes, out var written) || written != SignatureLength)
        {
            return false;
        }

        token = new SharedAccessSignature(resource, expiry, seconds, bytes);
        return true;
    }

    /// <summary>The bytes the signature covers: UTF-8 of <c>sr + "\n" + se</c>.</summary>
    public static byte[] StringToSign(string resource, string expiryText) =>
        Encoding.UTF8.GetBytes(string.Concat(resource, "\n", expiryText));

    /// <summary>HMAC-SHA256 of <see cref="StringToSign"/> under <paramref name="key"/>.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> key, string resource, string expiryText) =>
        HMACSHA256.HashData(key, StringToSign(resource, expiryText));

    /// <summary>
    /// Whether the signature was made with <paramref name="key"/>. Always computes the full HMAC and
    /// compares in constant time, so how long it takes says nothing about how close a guess was.
    /// </summary>
    public bool IsSignedWith(ReadOnlySpan<byte> key) =>
        CryptographicOperations.FixedTimeEquals(Sign(key, Resource, ExpiryText), Signature);

    /// <summary>What the store remembers of a used token: SHA-256 of its signature, hex (the signature itself is never kept).</summary>
    public string ReplayKey() => Convert.ToHexStringLower(SHA256.HashData(Signature));

    /// <summary>Builds a header value, as a device does (tests, documentation).</summary>
    public static string Create(ReadOnlySpan<byte> key, string serialNumber, long expiry)
    {
        var se = expiry.ToString(CultureInfo.InvariantCulture);
        var sig = Convert.ToBase64String(Sign(key, serialNumber, se));
        return $"{Scheme} sr={Uri.EscapeDataString(serialNumber)}&se={se}&sig={Uri.EscapeDataString(sig)}";
    }
}

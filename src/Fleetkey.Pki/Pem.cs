using System.Security.Cryptography;

namespace Fleetkey.Pki;

/// <summary>PEM reading that is strict about what it accepts.</summary>
internal static class Pem
{
    /// <summary>Every PEM block in <paramref name="text"/>, in order. Text between blocks is ignored, as OpenSSL does.</summary>
    public static List<(string Label, byte[] Der)> ReadAll(string text)
    {
        var blocks = new List<(string, byte[])>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var der = new byte[fields.DecodedDataLength];
            if (!Convert.TryFromBase64Chars(rest[fields.Base64Data], der, out var written) || written != der.Length)
            {
                // TryFind already checked the base64; this only guards the length it reported.
                throw new FormatException("Invalid base64 in PEM.");
            }

            blocks.Add((label, der));
            rest = rest[fields.Location.End..];
        }

        return blocks;
    }

    /// <summary>The label of the first PEM block, or null when there is none.</summary>
    public static string? FirstLabel(string text) =>
        PemEncoding.TryFind(text, out var fields) ? text[fields.Label] : null;
}

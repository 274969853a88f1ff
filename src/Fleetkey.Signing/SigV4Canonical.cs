using System.Text;

namespace Fleetkey.Signing;

/// <summary>
/// The canonical forms of SigV4 for every service but S3, as botocore, the AWS CLI and aws-sdk-js
/// compute them.
/// </summary>
/// <remarks>
/// <para>
/// Path: the SDKs sign the path they send, which is already percent-encoded, and encode it once
/// more (the "double encoding" of non-S3 services): a label <c>thing:1</c> goes on the wire as
/// <c>/things/thing%3A1</c> and is signed as <c>/things/thing%253A1</c>. So the canonical path is
/// the raw wire path with dot segments and empty segments removed (botocore
/// <c>remove_dot_segments</c>), then every byte outside <c>A-Za-z0-9-_.~</c> and <c>/</c>
/// percent-encoded. The published AWS test suite writes its paths unencoded (<c>GET /ሴ</c>,
/// <c>GET /example space/</c>); fed verbatim, they get the single encoding the suite expects from
/// the same rule, so one rule serves both.
/// </para>
/// <para>
/// Query: parameters are percent-decoded (a <c>+</c> stays a plus), re-encoded with only
/// <c>A-Za-z0-9-_.~</c> unreserved, and sorted by encoded name, then by encoded value, ordinally.
/// </para>
/// </remarks>
public static class SigV4Canonical
{
    private const string HexDigits = "0123456789ABCDEF";

    /// <summary>The canonical URI: <paramref name="rawPath"/> (as on the wire) normalized and percent-encoded once more.</summary>
    public static string Path(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        var normalized = RemoveDotSegments(rawPath);
        if (normalized.Length == 0)
        {
            return "/";
        }

        var builder = new StringBuilder(normalized.Length + 16);
        AppendEncoded(builder, Encoding.UTF8.GetBytes(normalized), keepSlash: true);
        return builder.ToString();
    }

    /// <summary>The canonical query string of <paramref name="rawQuery"/> (as on the wire, without the <c>?</c>).</summary>
    public static string Query(string rawQuery)
    {
        ArgumentNullException.ThrowIfNull(rawQuery);
        if (rawQuery.Length == 0)
        {
            return string.Empty;
        }

        var parameters = new List<(string Name, string Value)>();
        foreach (var pair in rawQuery.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : pair[(equals + 1)..];
            parameters.Add((Reencode(name), Reencode(value)));
        }

        parameters.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });

        var builder = new StringBuilder(rawQuery.Length + 16);
        for (var i = 0; i < parameters.Count; i++)
        {
            if (i > 0)
            {
                builder.Append('&');
            }

            builder.Append(parameters[i].Name).Append('=').Append(parameters[i].Value);
        }

        return builder.ToString();
    }

    /// <summary>
    /// The canonical value of one header: each value trimmed with inner runs of spaces collapsed
    /// to one, and the values joined with commas in the order received. A value folded over
    /// several lines (obs-fold) counts as one value per line, as the AWS test suite's
    /// get-header-value-multiline expects.
    /// </summary>
    public static string HeaderValue(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var builder = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            var firstLine = true;
            foreach (var line in values[i].Split('\n'))
            {
                var start = builder.Length;
                if (!firstLine)
                {
                    builder.Append(',');
                }

                if (AppendTrimmedCollapsed(builder, line) == 0 && !firstLine)
                {
                    builder.Length = start; // an empty continuation line adds nothing
                    continue;
                }

                firstLine = false;
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// Percent-encodes the UTF-8 bytes of <paramref name="value"/>, leaving only <c>A-Za-z0-9-_.~</c>
    /// (and <c>/</c> when <paramref name="keepSlash"/>) as they are: the encoding of SigV4 and of
    /// botocore's <c>percent_encode</c>, which the SDKs use for URI labels and query parameters.
    /// </summary>
    public static string UriEncode(string value, bool keepSlash = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 16);
        AppendEncoded(builder, Encoding.UTF8.GetBytes(value), keepSlash);
        return builder.ToString();
    }

    /// <summary>RFC 3986 encoding with only <c>A-Za-z0-9-_.~</c> (and optionally <c>/</c>) left as is.</summary>
    internal static void AppendEncoded(StringBuilder builder, ReadOnlySpan<byte> bytes, bool keepSlash)
    {
        foreach (var b in bytes)
        {
            if (IsUnreserved(b) || (keepSlash && b == (byte)'/'))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xF]);
            }
        }
    }

    /// <summary>RFC 3986 §5.2.4 dot-segment removal, also dropping empty segments (botocore <c>remove_dot_segments</c>).</summary>
    internal static string RemoveDotSegments(string path)
    {
        if (path.Length == 0)
        {
            return string.Empty;
        }

        var output = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (output.Count > 0)
                {
                    output.RemoveAt(output.Count - 1);
                }
            }
            else
            {
                output.Add(segment);
            }
        }

        var first = path[0] == '/' ? "/" : string.Empty;
        var last = path[^1] == '/' && output.Count > 0 ? "/" : string.Empty;
        return first + string.Join('/', output) + last;
    }

    private static string Reencode(string component)
    {
        var bytes = Encoding.UTF8.GetBytes(component);
        var decoded = new byte[bytes.Length];
        var length = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'%' && i + 2 < bytes.Length && IsHex(bytes[i + 1]) && IsHex(bytes[i + 2]))
            {
                decoded[length++] = (byte)((HexValue(bytes[i + 1]) << 4) | HexValue(bytes[i + 2]));
                i += 2;
            }
            else
            {
                decoded[length++] = bytes[i];
            }
        }

        var builder = new StringBuilder(length + 8);
        AppendEncoded(builder, decoded.AsSpan(0, length), keepSlash: false);
        return builder.ToString();
    }

    private static int AppendTrimmedCollapsed(StringBuilder builder, string line)
    {
        var written = 0;
        var pendingSpace = false;
        foreach (var c in line)
        {
            if (c is ' ' or '\t' or '\r')
            {
                pendingSpace = written > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                written++;
                pendingSpace = false;
            }

            builder.Append(c);
            written++;
        }

        return written;
    }

    private static bool IsUnreserved(byte b) =>
        b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    private static bool IsHex(byte b) =>
        b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'A' and <= (byte)'F') or (>= (byte)'a' and <= (byte)'f');

    private static int HexValue(byte b) => b switch
    {
        <= (byte)'9' => b - '0',
        <= (byte)'F' => b - 'A' + 10,
        _ => b - 'a' + 10,
    };
}

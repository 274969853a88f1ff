using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Fleetkey.Api.Authentication;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Fleetkey.Api.Wire;

/// <summary>
/// Percent-decoding of URI labels and query strings that refuses what is not UTF-8. ASP.NET Core's own
/// decoding keeps a malformed escape as it is and turns invalid UTF-8 into U+FFFD, so a name would reach
/// the service as something else than the client sent (or, for a raw byte, be refused only by luck).
/// </summary>
internal static class WireText
{
    private const string InvalidEncoding = "failed to satisfy constraint: Member must be valid percent-encoded UTF-8";

    /// <summary>The decoded text, or null when an escape is malformed or the bytes are not UTF-8.</summary>
    /// <param name="plusIsSpace">Query strings (form encoding) read <c>+</c> as a space; paths do not.</param>
    public static string? TryUnescape(ReadOnlySpan<char> raw, bool plusIsSpace)
    {
        if (raw.IndexOfAny('%', '+') < 0 && Ascii.IsValid(raw))
        {
            return raw.ToString();
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '%')
                {
                    if (i + 2 >= raw.Length || !char.IsAsciiHexDigit(raw[i + 1]) || !char.IsAsciiHexDigit(raw[i + 2]))
                    {
                        return null;
                    }

                    rented[length++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                    i += 2;
                }
                else if (c == '+' && plusIsSpace)
                {
                    rented[length++] = (byte)' ';
                }
                else if (char.IsAscii(c))
                {
                    rented[length++] = (byte)c;
                }
                else if (Rune.DecodeFromUtf16(raw[i..], out var rune, out var consumed) == OperationStatus.Done)
                {
                    // Kestrel hands non-ASCII request-target bytes over as UTF-8 text; a lone surrogate was never UTF-8.
                    length += rune.EncodeToUtf8(rented.AsSpan(length));
                    i += consumed - 1;
                }
                else
                {
                    return null;
                }
            }

            var bytes = rented.AsSpan(0, length);
            return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The query string as the client sent it, decoded strictly: parameter names are case-sensitive (as AWS's
    /// are), a name may repeat. A parameter that does not decode is refused with an InvalidRequestException.
    /// </summary>
    public static Dictionary<string, List<string>> Query(HttpContext context)
    {
        var (_, rawQuery) = SigV4AuthenticationMiddleware.RawPathAndQuery(context);
        var query = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var pair in rawQuery.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = TryUnescape(equals < 0 ? pair : pair.AsSpan(0, equals), plusIsSpace: true);
            var value = TryUnescape(equals < 0 ? [] : pair.AsSpan(equals + 1), plusIsSpace: true);
            if (name is null || value is null)
            {
                errors.Add($"Value at '{(name is null ? "(query parameter name)" : Printable(name))}' {InvalidEncoding}");
                continue;
            }

            if (!query.TryGetValue(name, out var values))
            {
                query[name] = values = [];
            }

            values.Add(value);
        }

        ThrowHelper.ThrowIfInvalid(errors);
        return query;
    }

    /// <summary>The validation problem of a label or parameter that does not decode, worded as the others.</summary>
    public static string NotDecodable(string member) => $"Value at '{member}' {InvalidEncoding}";

    private static int HexValue(char c) => c switch
    {
        <= '9' => c - '0',
        <= 'F' => c - 'A' + 10,
        _ => c - 'a' + 10,
    };

    /// <summary>
    /// A name the client chose, fit to echo in an error and keep in a log: control characters replaced, at
    /// most 64 characters of it (never half of a surrogate pair).
    /// </summary>
    public static string Printable(string name)
    {
        const int MaxEchoed = 64;
        var cut = MaxEchoed - (name.Length > MaxEchoed && char.IsHighSurrogate(name[MaxEchoed - 1]) ? 1 : 0);
        var text = name.Length > MaxEchoed ? name[..cut] + "…" : name;
        return string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }
}

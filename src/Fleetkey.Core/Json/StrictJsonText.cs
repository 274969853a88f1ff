using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Fleetkey.Core.Json;

/// <summary>
/// <see cref="StrictJson"/> for JSON that reaches a reader as a .NET string (a template body, a policy
/// document: JSON inside a JSON string of the request). Such a string can hold a lone surrogate,
/// which <c>JsonDocument.Parse(string)</c> answers with an ArgumentException and
/// <c>Encoding.UTF8</c> silently replaces, so the text is transcoded strictly first.
/// </summary>
public static class StrictJsonText
{
    /// <summary>The message for text that is not valid UTF-16 (and so has no UTF-8 form).</summary>
    public const string InvalidUnicode = "The JSON text is not valid Unicode (a lone surrogate).";

    /// <summary>
    /// <paramref name="json"/> parsed, when it is one strict JSON value within
    /// <paramref name="options"/>' depth; otherwise null, and <paramref name="problem"/> says why in a
    /// sentence (System.Text.Json's own for malformed text: it says where, and names the depth bound).
    /// </summary>
    public static JsonDocument? Parse(string json, JsonDocumentOptions options, out string? problem)
    {
        if (!TryEncode(json, out var utf8))
        {
            problem = InvalidUnicode;
            return null;
        }

        problem = StrictJson.FindProblem(utf8.Span, options.MaxDepth > 0 ? options.MaxDepth : StrictJson.DefaultMaxDepth);
        try
        {
            var document = JsonDocument.Parse(utf8, options);
            if (problem is null)
            {
                return document;
            }

            document.Dispose();
        }
        catch (JsonException exception)
        {
            problem = exception.Message;
        }
        catch (InvalidOperationException)
        {
            // A key with an escaped lone surrogate, read while looking for duplicates: the problem says so.
        }

        return null;
    }

    /// <summary>The UTF-8 form of <paramref name="json"/>; false when it holds a lone surrogate.</summary>
    public static bool TryEncode(string json, out ReadOnlyMemory<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(json);
        var buffer = new byte[Encoding.UTF8.GetMaxByteCount(json.Length)];
        if (Utf8.FromUtf16(json, buffer, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            utf8 = ReadOnlyMemory<byte>.Empty;
            return false;
        }

        utf8 = buffer.AsMemory(0, written);
        return true;
    }
}

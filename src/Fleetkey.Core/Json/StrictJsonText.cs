using System.Buffers;
using System.Text;
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
    /// Null when <paramref name="json"/> is one strict JSON value, with its UTF-8 bytes in
    /// <paramref name="utf8"/> (parse those: no second transcoding); otherwise what is wrong with it.
    /// </summary>
    public static string? FindProblem(string json, int maxDepth, out ReadOnlyMemory<byte> utf8) =>
        TryEncode(json, out utf8) ? StrictJson.FindProblem(utf8.Span, maxDepth) : InvalidUnicode;

    /// <summary>
    /// The UTF-8 form of <paramref name="json"/>; false when it holds a lone surrogate. For a reader
    /// that parses first (for its own messages) and runs <see cref="StrictJson.FindProblem"/> after.
    /// </summary>
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

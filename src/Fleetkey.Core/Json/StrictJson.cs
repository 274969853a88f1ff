using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Fleetkey.Core.Json;

/// <summary>
/// The one check every JSON body from the network passes before it is parsed: well-formed UTF-8
/// (raw, and escaped: no lone surrogate in a <c>\u</c> escape), well-formed JSON within a depth, and no
/// object with the same key twice. System.Text.Json accepts all three and fails later, when a string is
/// read (an InvalidOperationException, which became a 500) or silently keeps the last duplicate, so a
/// signature or a policy check could see one value and the service another.
/// </summary>
public static class StrictJson
{
    /// <summary>Nesting depth allowed unless a reader asks for less (AWS request shapes nest a few levels).</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>
    /// Null when <paramref name="utf8Json"/> is one strict JSON value; otherwise what is wrong with it,
    /// in a sentence fit for a 400 answer (it never quotes the input beyond a key that decoded cleanly).
    /// </summary>
    public static string? FindProblem(ReadOnlySpan<byte> utf8Json, int maxDepth = DefaultMaxDepth)
    {
        if (!Utf8.IsValid(utf8Json))
        {
            return "The JSON text is not valid UTF-8.";
        }

        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = maxDepth });

        // One set of keys per open object; arrays push null so that depths line up.
        var keys = new Stack<HashSet<string>?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.StartArray:
                        keys.Push(null);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        keys.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        if (Decode(ref reader) is not { } name)
                        {
                            return "The JSON text has a key that is not valid Unicode (a lone surrogate escape).";
                        }

                        if (keys.Peek() is { } seen && !seen.Add(name))
                        {
                            return string.Create(CultureInfo.InvariantCulture, $"The JSON text has the key '{Printable(name)}' twice in one object.");
                        }

                        break;
                    case JsonTokenType.String:
                        if (reader.ValueIsEscaped && Decode(ref reader) is null)
                        {
                            return "The JSON text has a string that is not valid Unicode (a lone surrogate escape).";
                        }

                        break;
                }
            }
        }
        catch (JsonException exception)
        {
            return string.Create(CultureInfo.InvariantCulture, $"The JSON text is malformed at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}.");
        }

        return null;
    }

    private static string? Decode(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // A key is echoed in the message; control characters and overlong keys are not.
    private static string Printable(string key)
    {
        const int MaxEchoed = 64;
        var builder = new StringBuilder(Math.Min(key.Length, MaxEchoed));
        foreach (var rune in key.EnumerateRunes())
        {
            if (builder.Length >= MaxEchoed)
            {
                builder.Append('…');
                break;
            }

            builder.Append(Rune.IsControl(rune) ? "?" : rune.ToString());
        }

        return builder.ToString();
    }
}

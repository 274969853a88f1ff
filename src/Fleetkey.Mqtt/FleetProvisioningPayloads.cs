using System.Buffers;
using System.Formats.Cbor;
using System.Text.Json;
using Fleetkey.Core.Json;

namespace Fleetkey.Mqtt;

/// <summary>
/// The fleet provisioning MQTT API's payloads in its two formats (<c>json</c> and <c>cbor</c>, the last
/// topic level): flat objects of strings, numbers and one level of string-to-string maps.
/// </summary>
internal static class FleetProvisioningPayloads
{
    public const string Json = "json";
    public const string Cbor = "cbor";

    /// <summary>A request's fields: strings and string maps; anything else is not valid here.</summary>
    public sealed class Fields
    {
        public Dictionary<string, string> Strings { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Dictionary<string, string>> Maps { get; } = new(StringComparer.Ordinal);

        public string? String(string name) => Strings.GetValueOrDefault(name);

        public Dictionary<string, string>? Map(string name) => Maps.GetValueOrDefault(name);
    }

    /// <summary>Reads a request; an empty payload is an empty object. Throws <see cref="FormatException"/> when malformed.</summary>
    public static Fields Read(string format, ReadOnlySequence<byte> payload)
    {
        var fields = new Fields();
        if (payload.IsEmpty)
        {
            return fields;
        }

        var bytes = payload.ToArray();
        try
        {
            if (format == Json)
            {
                ReadJson(bytes, fields);
            }
            else
            {
                ReadCbor(bytes, fields);
            }
        }
        catch (Exception exception) when (exception is JsonException or CborContentException or InvalidOperationException or OverflowException)
        {
            throw new FormatException($"The payload is not a valid {format} object.", exception);
        }

        return fields;
    }

    private static void ReadJson(byte[] bytes, Fields fields)
    {
        // As every JSON reader of network input: valid UTF-8, no lone surrogate escape, no key twice.
        if (StrictJson.FindProblem(bytes) is { } problem)
        {
            throw new FormatException(problem);
        }

        using var document = JsonDocument.Parse(bytes);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The payload is not a JSON object.");
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    fields.Strings[property.Name] = property.Value.GetString()!;
                    break;
                case JsonValueKind.Object:
                    var map = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        // Template parameters are strings; a number or boolean is taken as its text.
                        map[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
                    }

                    fields.Maps[property.Name] = map;
                    break;
            }
        }
    }

    private static void ReadCbor(byte[] bytes, Fields fields)
    {
        // Strict: valid UTF-8 text, no key twice in a map (RFC 8949 §5.6); lengths may still be indefinite.
        var reader = new CborReader(bytes, CborConformanceMode.Strict);
        var count = reader.ReadStartMap();
        for (var i = 0; count is null ? reader.PeekState() != CborReaderState.EndMap : i < count; i++)
        {
            var name = reader.ReadTextString();
            switch (reader.PeekState())
            {
                case CborReaderState.TextString:
                    fields.Strings[name] = reader.ReadTextString();
                    break;
                case CborReaderState.StartMap:
                    var map = new Dictionary<string, string>(StringComparer.Ordinal);
                    var entries = reader.ReadStartMap();
                    for (var j = 0; entries is null ? reader.PeekState() != CborReaderState.EndMap : j < entries; j++)
                    {
                        var key = reader.ReadTextString();
                        map[key] = reader.PeekState() == CborReaderState.TextString ? reader.ReadTextString() : ScalarText(reader);
                    }

                    reader.ReadEndMap();
                    fields.Maps[name] = map;
                    break;
                default:
                    reader.SkipValue();
                    break;
            }
        }

        reader.ReadEndMap();
    }

    private static string ScalarText(CborReader reader) => reader.PeekState() switch
    {
        CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger => reader.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        CborReaderState.Boolean => reader.ReadBoolean() ? "true" : "false",
        _ => throw new FormatException("A parameter value must be a string."),
    };

    /// <summary>Writes an answer: each value a string, an int or a string map (null values are left out).</summary>
    public static byte[] Write(string format, IEnumerable<(string Name, object? Value)> members)
    {
        if (format == Json)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                foreach (var (name, value) in members)
                {
                    switch (value)
                    {
                        case string text:
                            writer.WriteString(name, text);
                            break;
                        case int number:
                            writer.WriteNumber(name, number);
                            break;
                        case IReadOnlyDictionary<string, string> map:
                            writer.WriteStartObject(name);
                            foreach (var (key, item) in map)
                            {
                                writer.WriteString(key, item);
                            }

                            writer.WriteEndObject();
                            break;
                    }
                }

                writer.WriteEndObject();
            }

            return buffer.WrittenSpan.ToArray();
        }

        var present = members.Where(m => m.Value is not null).ToList();
        var cbor = new CborWriter(CborConformanceMode.Strict);
        cbor.WriteStartMap(present.Count);
        foreach (var (name, value) in present)
        {
            cbor.WriteTextString(name);
            switch (value)
            {
                case string text:
                    cbor.WriteTextString(text);
                    break;
                case int number:
                    cbor.WriteInt32(number);
                    break;
                case IReadOnlyDictionary<string, string> map:
                    cbor.WriteStartMap(map.Count);
                    foreach (var (key, item) in map)
                    {
                        cbor.WriteTextString(key);
                        cbor.WriteTextString(item);
                    }

                    cbor.WriteEndMap();
                    break;
                default:
                    throw new ArgumentException($"Unsupported value for {name}.", nameof(members));
            }
        }

        cbor.WriteEndMap();
        return cbor.Encode();
    }
}

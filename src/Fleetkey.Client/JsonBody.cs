using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fleetkey.Client;

/// <summary>Writes the body members of an operation's input; a member left <see langword="null"/> is not sent.</summary>
internal static class JsonBody
{
    public static void Write(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    public static void Write(Utf8JsonWriter writer, string name, bool? value)
    {
        if (value is { } flag)
        {
            writer.WriteBoolean(name, flag);
        }
    }

    public static void Write(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    public static void Write<T>(Utf8JsonWriter writer, string name, T? value, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (value is not null)
        {
            writer.WritePropertyName(name);
            JsonSerializer.Serialize(writer, value, typeInfo);
        }
    }
}

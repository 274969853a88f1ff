using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fleetkey.Client;

/// <summary>
/// rest-json timestamps: epoch seconds, with a fraction for milliseconds (botocore's
/// <c>unixTimestamp</c> format). Read to the millisecond; an ISO 8601 string is accepted too.
/// </summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000))
            : reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);
}

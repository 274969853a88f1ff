using System.Text.Json;
using Fleetkey.Core.Json;
using Fleetkey.Services.Devices;
using Microsoft.Net.Http.Headers;

namespace Fleetkey.Api.Wire;

/// <summary>
/// What a <c>POST /device/register</c> body said: the request, or why it is refused (every problem at
/// once) with the serial number when one could be read, for the audit log.
/// </summary>
internal sealed record DeviceRequestBody(DeviceRegistrationRequest? Request, string? Error, string? ClaimedSerial)
{
    public static DeviceRequestBody Refused(string error, string? claimedSerial = null) => new(null, error, claimedSerial);
}

/// <summary>
/// Reads the device endpoint's request, which anyone on the network can send: the content type, then
/// the bytes through <see cref="StrictJson"/> (valid UTF-8 raw and escaped, no duplicate key, bounded
/// depth), then the shape. Pure: it never throws for any input; the adapter reads the bounded body.
/// </summary>
internal static class DeviceRequestReader
{
    public const int MaxParameters = 50;

    // The shape nests two levels ({"parameters": {...}}); a little slack, no more.
    public const int MaxDepth = 4;

    /// <summary>
    /// Null when <paramref name="contentType"/> is <c>application/json</c> (with any parameters, UTF-8 if a
    /// charset is named) or absent (small device HTTP stacks often send none; the body is then read as
    /// JSON all the same); else why not.
    /// </summary>
    public static string? CheckContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return null;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            || !parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (parsed.Charset.HasValue && !parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return "The request's Content-Type must be application/json (UTF-8).";
        }

        return null;
    }

    /// <summary>Parses a whole body (already bounded by the caller).</summary>
    public static DeviceRequestBody Parse(ReadOnlySpan<byte> body)
    {
        if (StrictJson.FindProblem(body, MaxDepth) is { } problem)
        {
            return DeviceRequestBody.Refused("The request body is not valid JSON: " + problem);
        }

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return DeviceRequestBody.Refused("The request body is not a JSON object.");
        }

        var problems = new List<string>();
        string? serial = null, csr = null;
        Dictionary<string, string>? parameters = null;
        foreach (var member in root.EnumerateObject())
        {
            switch (member.Name)
            {
                case "serialNumber" when member.Value.ValueKind == JsonValueKind.String:
                    serial = member.Value.GetString();
                    break;
                case "serialNumber":
                    problems.Add("serialNumber must be a string");
                    break;
                case "csr" when member.Value.ValueKind == JsonValueKind.String:
                    csr = member.Value.GetString();
                    break;
                case "csr" when member.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "csr":
                    problems.Add("csr must be a PEM string");
                    break;
                case "parameters" when member.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "parameters" when member.Value.ValueKind == JsonValueKind.Object:
                    parameters = ReadParameters(member.Value, problems);
                    break;
                case "parameters":
                    problems.Add("parameters must be an object of strings");
                    break;
                default:
                    problems.Add($"unknown member '{Printable(member.Name)}'; expected serialNumber, csr and parameters");
                    break;
            }
        }

        if (serial is null && !problems.Exists(p => p.StartsWith("serialNumber", StringComparison.Ordinal)))
        {
            problems.Add("serialNumber is required");
        }

        return problems.Count > 0
            ? DeviceRequestBody.Refused($"The request body is not valid: {string.Join("; ", problems)}.", serial)
            : new DeviceRequestBody(new DeviceRegistrationRequest(serial!, csr, parameters), null, serial);
    }

    private static Dictionary<string, string> ReadParameters(JsonElement value, List<string> problems)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var parameter in value.EnumerateObject())
        {
            if (parameter.Value.ValueKind != JsonValueKind.String)
            {
                problems.Add($"parameters.{Printable(parameter.Name)} must be a string");
            }
            else
            {
                parameters[parameter.Name] = parameter.Value.GetString()!;
            }
        }

        if (parameters.Count > MaxParameters)
        {
            problems.Add($"at most {MaxParameters} parameters are allowed");
        }

        return parameters;
    }

    // A member name is the device's text, echoed in the answer and kept (bounded) in the audit log:
    // no control characters, at most 64 characters of it.
    private static string Printable(string name)
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

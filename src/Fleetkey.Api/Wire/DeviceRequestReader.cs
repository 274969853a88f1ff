using System.Text.Json;
using System.Text.Json.Nodes;
using Fleetkey.Api.Contracts;
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

    /// <summary>
    /// Parses a whole body (already bounded by the caller) and reads it as the model's <c>DeviceRegister</c>
    /// input with the binder every other operation uses.
    /// </summary>
    public static DeviceRequestBody Parse(ReadOnlySpan<byte> body)
    {
        if (StrictJson.FindProblem(body, MaxDepth) is { } problem)
        {
            return DeviceRequestBody.Refused("The request body is not valid JSON: " + problem);
        }

        var node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        if (node is not JsonObject root)
        {
            return DeviceRequestBody.Refused("The request body is not a JSON object.");
        }

        var problems = new List<string>();
        var input = RequestBinder.ReadBody(Operation, root, problems);
        var claimed = input["serialNumber"] is JsonValue serial && serial.TryGetValue<string>(out var text) ? text : null;
        if (problems.Count > 0)
        {
            return DeviceRequestBody.Refused($"The request body is not valid: {string.Join("; ", problems)}.", claimed);
        }

        var request = input.Deserialize(ApiJsonContext.Default.DeviceRegisterRequest)!;
        return new DeviceRequestBody(new DeviceRegistrationRequest(request.SerialNumber, request.Csr, request.Parameters), null, claimed);
    }

    private static OperationModel Operation { get; } = ServiceModel.Fleetkey.Operation("DeviceRegister");
}

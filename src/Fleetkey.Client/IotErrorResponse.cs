using System.Net;
using System.Text;
using System.Text.Json;

namespace Fleetkey.Client;

/// <summary>
/// An error answer as rest-json clients read it: the code from <c>x-amzn-ErrorType</c> (cut at
/// <c>:</c>), else from the body's <c>__type</c> (after <c>#</c>) or <c>code</c>; the message from
/// the body's <c>message</c> (or <c>Message</c>); for a body that is not JSON, its first characters.
/// </summary>
internal sealed class IotErrorResponse
{
    private const int MaxTextMessageLength = 512;

    private readonly JsonElement? _body;

    private IotErrorResponse(string errorCode, string message, HttpStatusCode statusCode, string? requestId, JsonElement? body)
    {
        ErrorCode = errorCode;
        Message = message;
        StatusCode = statusCode;
        RequestId = requestId;
        _body = body;
    }

    public string ErrorCode { get; }

    public string Message { get; }

    public HttpStatusCode StatusCode { get; }

    public string? RequestId { get; }

    /// <summary>A string member of the error body (e.g. <c>resourceId</c>), when present.</summary>
    public string? Member(string name) =>
        _body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static async Task<IotErrorResponse> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        JsonElement? body = null;
        if (bytes.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(bytes);
                body = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON (a proxy's HTML page, say): the text becomes the message below.
            }
        }

        var errorType = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.FirstOrDefault() : null;
        var code = Before(errorType, ':')
            ?? After(String(body, "__type"), '#')
            ?? String(body, "code")
            ?? String(body, "Code")
            ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var message = String(body, "message")
            ?? String(body, "Message")
            ?? (body is null && bytes.Length > 0 ? Truncate(Encoding.UTF8.GetString(bytes)) : null)
            ?? response.ReasonPhrase
            ?? string.Empty;
        var requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
        return new IotErrorResponse(code, message, response.StatusCode, requestId, body);
    }

    private static string? String(JsonElement? body, string name) =>
        body is { ValueKind: JsonValueKind.Object } element && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString() is { Length: > 0 } text ? text : null
            : null;

    private static string? Before(string? value, char separator) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Split(separator)[0].Trim();

    private static string? After(string? value, char separator) =>
        value is null ? null : value[(value.LastIndexOf(separator) + 1)..];

    private static string Truncate(string text) =>
        text.Length <= MaxTextMessageLength ? text.Trim() : text[..MaxTextMessageLength].Trim() + "…";
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Fleetkey.Api.Wire;

/// <summary>
/// Reads an operation's input from where the model binds each member (URI label, query string,
/// header or JSON body) into one JSON object, and validates it against the model's constraints,
/// collecting every violation into one <c>InvalidRequestException</c> worded as AWS words it.
/// </summary>
internal static class RequestBinder
{
    public static async ValueTask<JsonObject> BindAsync(HttpContext context, OperationModel operation, ServiceModel model)
    {
        var input = new JsonObject();
        if (operation.InputShape is null)
        {
            return input;
        }

        var shape = model.Shape(operation.InputShape);
        var members = shape["members"]?.AsObject() ?? [];
        var errors = new List<string>();

        JsonObject? body = null;
        if (members.Any(m => m.Value?["location"] is null))
        {
            body = await ReadBodyAsync(context);
        }

        string[]? rawSegments = null;
        foreach (var (memberName, memberNode) in members)
        {
            var location = memberNode.Str("location");
            var locationName = memberNode.Str("locationName") ?? memberName;
            var memberShapeName = memberNode.Str("shape")!;
            var memberShape = model.Shape(memberShapeName);
            JsonNode? value;
            switch (location)
            {
                case "uri":
                    rawSegments ??= RawPathSegments(context);
                    value = UriLabel(operation, rawSegments, locationName) is { } label
                        ? FromText([label], memberShape, memberName, errors)
                        : null;
                    break;
                case "querystring":
                    value = context.Request.Query.TryGetValue(locationName, out var query) ? FromText(query.ToArray(), memberShape, memberName, errors) : null;
                    break;
                case "header":
                    value = context.Request.Headers.TryGetValue(locationName, out var header) ? FromText(header.ToArray(), memberShape, memberName, errors) : null;
                    break;
                case null:
                    value = body is not null && body.TryGetPropertyValue(memberName, out var node) ? node?.DeepClone() : null;
                    break;
                default:
                    continue;
            }

            if (value is not null)
            {
                input[memberName] = value;
            }
        }

        Validator.ValidateStructure(model, shape, input, path: null, errors);
        ThrowHelper.ThrowIfInvalid(errors);
        return input;
    }

    private static async ValueTask<JsonObject?> ReadBodyAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Body.CanSeek)
        {
            request.Body.Position = 0;
        }

        // The SigV4 middleware has already buffered the body to hash it: parse that buffer, don't copy it.
        ReadOnlyMemory<byte> bytes;
        if (request.Body is MemoryStream buffered && buffered.TryGetBuffer(out var segment))
        {
            bytes = segment.AsMemory();
        }
        else
        {
            using var copy = new MemoryStream();
            await request.Body.CopyToAsync(copy, context.RequestAborted);
            bytes = copy.ToArray();
        }

        if (bytes.Length == 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes.Span) as JsonObject
                ?? throw new ServiceException(ErrorCode.InvalidRequest, "The request body must be a JSON object.");
        }
        catch (JsonException exception)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The request body is not valid JSON: {exception.Message}");
        }
    }

    /// <summary>
    /// The path as the client sent it, split into still-encoded segments: ASP.NET Core's decoded
    /// path keeps %2F, so labels (ARNs, names with ':') are decoded here exactly once.
    /// </summary>
    private static string[] RawPathSegments(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/')
        {
            raw = context.Request.PathBase.Add(context.Request.Path).ToUriComponent();
        }

        var query = raw.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            raw = raw[..query];
        }

        return raw.Trim('/').Split('/');
    }

    private static string? UriLabel(OperationModel operation, string[] rawSegments, string label)
    {
        for (var i = 0; i < operation.Segments.Length && i < rawSegments.Length; i++)
        {
            var segment = operation.Segments[i];
            if (segment == "{" + label + "}")
            {
                return Uri.UnescapeDataString(rawSegments[i]);
            }

            if (segment == "{" + label + "+}")
            {
                return Uri.UnescapeDataString(string.Join('/', rawSegments[i..]));
            }
        }

        return null;
    }

    /// <summary>Converts query-string or header text to the JSON value the member's shape wants.</summary>
    private static JsonNode? FromText(string?[] values, JsonObject shape, string member, List<string> errors)
    {
        var type = shape.Str("type");
        if (type == "list")
        {
            return new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }

        var text = values.Length > 0 ? values[^1] ?? string.Empty : string.Empty;
        switch (type)
        {
            case "boolean":
                if (bool.TryParse(text, out var flag))
                {
                    return JsonValue.Create(flag);
                }

                errors.Add($"Value '{text}' at '{member}' failed to satisfy constraint: Member must be a boolean");
                return null;
            case "integer":
            case "long":
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    return JsonValue.Create(number);
                }

                errors.Add($"Value '{text}' at '{member}' failed to satisfy constraint: Member must be a number");
                return null;
            default:
                return JsonValue.Create(text);
        }
    }
}

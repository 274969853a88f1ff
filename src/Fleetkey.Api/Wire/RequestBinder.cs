using System.Globalization;
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
    public static async ValueTask<(JsonObject Input, PageBinding? Paging)> BindAsync(HttpContext context, OperationModel operation, ServiceModel model)
    {
        var input = new JsonObject();
        if (operation.InputShape is null)
        {
            return (input, null);
        }

        var shape = model.Shape(operation.InputShape);
        var members = shape["members"]?.AsObject() ?? [];
        var errors = new List<string>();
        var undecodable = new List<string>();

        // A model that refuses unknown members reads every body, so that even a GET's stray body is refused.
        JsonObject? body = null;
        if (model.RefusesUnknownMembers || members.Any(m => m.Value?["location"] is null))
        {
            var bytes = await JsonBody.ReadObjectAsync(context);
            body = bytes.Length == 0 ? null : JsonNode.Parse(bytes.Span)!.AsObject();
        }

        string[]? rawSegments = null;
        Dictionary<string, List<string>>? query = null;
        foreach (var (memberName, memberNode) in members)
        {
            var location = memberNode.Str("location");
            var locationName = memberNode.Str("locationName") ?? memberName;
            var memberShape = model.Shape(memberNode.Str("shape")!);
            JsonNode? value = null;
            switch (location)
            {
                case "uri":
                    rawSegments ??= RawPathSegments(context);
                    if (UriLabel(operation, rawSegments, locationName) is { } raw)
                    {
                        if (WireText.TryUnescape(raw, plusIsSpace: false) is { } label)
                        {
                            value = FromText([label], memberShape, memberName, errors);
                        }
                        else
                        {
                            undecodable.Add(WireText.NotDecodable(memberName));
                        }
                    }

                    break;
                case "querystring":
                    query ??= WireText.Query(context);
                    value = query.TryGetValue(locationName, out var values) ? FromText([.. values], memberShape, memberName, errors) : null;
                    break;
                case "header":
                    value = context.Request.Headers.TryGetValue(locationName, out var header) ? FromText(header.ToArray(), memberShape, memberName, errors) : null;
                    break;
                default:
                    continue;
            }

            if (value is not null)
            {
                input[memberName] = value;
            }
        }

        // A label that is not text is only that: not also "missing" and "not matching" on top.
        ThrowHelper.ThrowIfInvalid(undecodable);
        CopyBody(model, members, body, input, errors);
        Validator.ValidateStructure(model, shape, input, path: null, errors);
        ThrowHelper.ThrowIfInvalid(errors);
        return (input, PageBinding.ForOperation(context, operation, members.Select(m => m.Key), input));
    }

    /// <summary>
    /// Reads an operation whose members are all in the body (the device endpoint's) from a parsed body,
    /// collecting every problem into <paramref name="errors"/> instead of throwing.
    /// </summary>
    public static JsonObject ReadBody(OperationModel operation, JsonObject body, List<string> errors)
    {
        var model = operation.Model;
        var shape = model.Shape(operation.InputShape!);
        var input = new JsonObject();
        CopyBody(model, shape["members"]?.AsObject() ?? [], body, input, errors);
        Validator.ValidateStructure(model, shape, input, path: null, errors);
        return input;
    }

    /// <summary>
    /// Copies the body's members into the input, explicit nulls included (an update can tell "remove" from
    /// "keep"); a member the shape does not have is refused when the model says so, else ignored as AWS does.
    /// </summary>
    private static void CopyBody(ServiceModel model, JsonObject members, JsonObject? body, JsonObject input, List<string> errors)
    {
        if (body is null)
        {
            return;
        }

        foreach (var (name, node) in body)
        {
            if (members.TryGetPropertyValue(name, out var member) && member.Str("location") is null)
            {
                input[name] = node?.DeepClone();
            }
            else if (model.RefusesUnknownMembers)
            {
                var known = members.Where(m => m.Value.Str("location") is null).Select(m => m.Key).ToList();
                errors.Add(known.Count == 0
                    ? $"'{WireText.Printable(name)}' is not a member of this request (it takes no body members)"
                    : $"'{WireText.Printable(name)}' is not a member of this request (members: {string.Join(", ", known)})");
            }
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

    /// <summary>The label as sent, still percent-encoded; null when the path has no such segment.</summary>
    private static string? UriLabel(OperationModel operation, string[] rawSegments, string label)
    {
        for (var i = 0; i < operation.Segments.Length && i < rawSegments.Length; i++)
        {
            var segment = operation.Segments[i];
            if (segment == "{" + label + "}")
            {
                return rawSegments[i];
            }

            if (segment == "{" + label + "+}")
            {
                return string.Join('/', rawSegments[i..]);
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

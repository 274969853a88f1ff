using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fleetkey.Api.Wire;

/// <summary>Checks a JSON value against a model shape: types, required members, lengths, ranges, patterns, enums.</summary>
internal static class Validator
{
    public static void ValidateStructure(ServiceModel model, JsonObject shape, JsonObject value, string? path, List<string> errors)
    {
        var members = shape["members"]?.AsObject() ?? [];
        if (shape["required"] is JsonArray required)
        {
            foreach (var name in required.Select(r => r!.GetValue<string>()))
            {
                if (!value.TryGetPropertyValue(name, out var member) || member is null)
                {
                    errors.Add($"Value null at '{Join(path, name)}' failed to satisfy constraint: Member must not be null");
                }
            }
        }

        foreach (var (name, member) in value)
        {
            if (member is null || !members.TryGetPropertyValue(name, out var memberNode))
            {
                continue;
            }

            Validate(model, memberNode.Str("shape")!, member, Join(path, name), errors);
        }
    }

    private static void Validate(ServiceModel model, string shapeName, JsonNode value, string path, List<string> errors)
    {
        var shape = model.Shape(shapeName);
        switch (shape.Str("type"))
        {
            case "structure":
                if (value is JsonObject structure)
                {
                    ValidateStructure(model, shape, structure, path, errors);
                }
                else
                {
                    errors.Add($"Value at '{path}' failed to satisfy constraint: Member must be an object");
                }

                break;
            case "string":
                if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    ValidateString(model, shape, v.GetValue<string>(), path, errors);
                }
                else
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be a string");
                }

                break;
            case "integer":
            case "long":
                // The model's integer is Java's: 32 bits. A larger number is not one, whatever min and max say.
                if (value is JsonValue n && n.GetValueKind() == JsonValueKind.Number && n.TryGetValue<long>(out var number)
                    && (shape.Str("type") == "long" || number is >= int.MinValue and <= int.MaxValue))
                {
                    if (shape.Long("min") is { } min && number < min)
                    {
                        errors.Add($"Value '{number}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {min}");
                    }

                    if (shape.Long("max") is { } max && number > max)
                    {
                        errors.Add($"Value '{number}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {max}");
                    }
                }
                else
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be an integer");
                }

                break;
            case "boolean":
                if (value is not JsonValue b || b.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be a boolean");
                }

                break;
            case "list":
                if (value is JsonArray list)
                {
                    CheckCount(shape, list.Count, Show(value), path, errors);
                    var memberShape = shape["member"].Str("shape")!;
                    for (var i = 0; i < list.Count; i++)
                    {
                        // The contracts' lists hold no nulls (a null tag once reached TagService as a 500).
                        if (list[i] is { } item)
                        {
                            Validate(model, memberShape, item, $"{path}.{i + 1}.member", errors);
                        }
                        else
                        {
                            errors.Add($"Value null at '{path}.{i + 1}.member' failed to satisfy constraint: Member must not be null");
                        }
                    }
                }
                else
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be a list");
                }

                break;
            case "map":
                if (value is JsonObject map)
                {
                    CheckCount(shape, map.Count, Show(value), path, errors);
                    var keyShape = model.Shape(shape["key"].Str("shape")!);
                    var valueShapeName = shape["value"].Str("shape")!;
                    foreach (var (key, item) in map)
                    {
                        var keyErrors = new List<string>();
                        ValidateString(model, keyShape, key, path, keyErrors);
                        if (keyErrors.Count > 0)
                        {
                            errors.Add($"Value '{Truncate(key)}' at '{path}' failed to satisfy constraint: Map keys must satisfy constraint: [{string.Join(", ", keyErrors.Select(ConstraintOnly))}]");
                        }

                        if (item is null)
                        {
                            errors.Add($"Value null at '{path}.{Truncate(key)}' failed to satisfy constraint: Map value must not be null");
                        }
                        else
                        {
                            Validate(model, valueShapeName, item, $"{path}.{Truncate(key)}", errors);
                        }
                    }
                }
                else
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be a map");
                }

                break;
            case "timestamp":
                if (value is not JsonValue t || t.GetValueKind() is not (JsonValueKind.Number or JsonValueKind.String))
                {
                    errors.Add($"Value '{Show(value)}' at '{path}' failed to satisfy constraint: Member must be a timestamp");
                }

                break;
            default:
                break;
        }
    }

    private static void ValidateString(ServiceModel model, JsonObject shape, string text, string path, List<string> errors)
    {
        if (shape.Long("min") is { } min && text.Length < min)
        {
            errors.Add($"Value '{Truncate(text)}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}");
        }

        // Length first: a pattern runs only on a value within the shape's length, so its cost is bounded by
        // the model (and by the body limit where the model sets none; the patterns never backtrack).
        var tooLong = shape.Long("max") is { } max && text.Length > max;
        if (tooLong)
        {
            errors.Add($"Value '{Truncate(text)}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {shape.Long("max")}");
        }

        // No store keeps U+0000 in text (PostgreSQL refuses it), and no AWS IoT name or document needs it.
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must not contain the null character");
        }
        else if (!tooLong && shape.Str("pattern") is { } pattern && !model.Pattern(pattern).IsMatch(text))
        {
            errors.Add($"Value '{Truncate(text)}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}");
        }

        if (shape["enum"] is JsonArray values && !values.Any(e => string.Equals(e!.GetValue<string>(), text, StringComparison.Ordinal)))
        {
            errors.Add($"Value '{Truncate(text)}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", values.Select(e => e!.GetValue<string>()))}]");
        }
    }

    private static void CheckCount(JsonObject shape, int count, string shown, string path, List<string> errors)
    {
        if (shape.Long("min") is { } min && count < min)
        {
            errors.Add($"Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}");
        }

        if (shape.Long("max") is { } max && count > max)
        {
            errors.Add($"Value '{Truncate(shown)}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max}");
        }
    }

    private static string ConstraintOnly(string error)
    {
        const string Marker = "failed to satisfy constraint: ";
        var at = error.IndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? error : error[(at + Marker.Length)..];
    }

    private static string Join(string? path, string name) => path is null ? name : path + "." + name;

    private static string Show(JsonNode value) => Truncate(value.ToJsonString());

    private static string Truncate(string text) =>
        text.Length <= 256 ? text : string.Concat(text.AsSpan(0, 256), "…(", text.Length.ToString(CultureInfo.InvariantCulture), " characters)");
}

using System.Text.Json;

namespace Fleetkey.Templates;

/// <summary>
/// The result of evaluating one template node. Evaluation returns null instead of a value when it
/// has already reported an error, so a failure is reported once, at the innermost path.
/// </summary>
internal abstract record TemplateValue;

/// <summary>
/// A string, number or boolean. Numbers and booleans keep their JSON kind so that an inline policy
/// document serialises back unchanged; where a string is required they are read as their JSON text,
/// as CloudFormation does for String-typed properties.
/// </summary>
internal sealed record ScalarValue(string Text, JsonValueKind Kind) : TemplateValue
{
    public static ScalarValue Of(string text) => new(text, JsonValueKind.String);
}

internal sealed record ListValue(IReadOnlyList<TemplateValue> Items) : TemplateValue;

/// <summary>An object that is not an intrinsic function call; members keep template order.</summary>
internal sealed record ObjectValue(IReadOnlyList<KeyValuePair<string, TemplateValue>> Members) : TemplateValue;

/// <summary><c>{"Ref": "AWS::NoValue"}</c>: removes the property or list element that holds it.</summary>
internal sealed record NoValue : TemplateValue
{
    public static readonly NoValue Instance = new();

    private NoValue()
    {
    }
}

using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;

namespace Fleetkey.Services.Registry;

/// <summary>The attribute-payload rules shared by things and thing groups.</summary>
internal static class Attributes
{
    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Applies an attribute payload: with <paramref name="merge"/> the given attributes are laid over
    /// the current ones, otherwise they replace them. An empty value removes an attribute, as on AWS.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Apply(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string>? payload, bool merge)
    {
        if (payload is null)
        {
            return current;
        }

        var result = merge ? new Dictionary<string, string>(current, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in payload)
        {
            if (value.Length == 0)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = value;
            }
        }

        return result;
    }

    /// <summary>Drops empty values: an attribute with an empty value is not kept.</summary>
    public static IReadOnlyDictionary<string, string> Normalize(IReadOnlyDictionary<string, string>? payload) =>
        Apply(Empty, payload, merge: false);

    public static bool SameAs(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var value) && string.Equals(value, pair.Value, StringComparison.Ordinal));

    public static void EnsureThingLimit(IReadOnlyDictionary<string, string> attributes, string? typeName)
    {
        var max = typeName is null ? NameRules.MaxAttributesWithoutType : NameRules.MaxAttributesWithType;
        if (attributes.Count > max)
        {
            ThrowHelper.InvalidRequest(typeName is null
                ? $"A thing without a thing type can have at most {max} attributes; {attributes.Count} were given. Give the thing a thing type to store up to {NameRules.MaxAttributesWithType}."
                : $"A thing can have at most {max} attributes; {attributes.Count} were given.");
        }
    }
}

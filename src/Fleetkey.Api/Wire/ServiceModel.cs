using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fleetkey.Api.Wire;

/// <summary>
/// A service model in botocore's shape: the single source of routes, member bindings and constraints.
/// <see cref="Iot"/> is AWS IoT's (botocore's <c>iot/2015-05-28</c>, embedded without documentation):
/// Fleetkey validates every request against it, so a constraint reads the same here as in the SDKs.
/// <see cref="Fleetkey"/> describes Fleetkey's own routes (enrollments, the device endpoint) the same
/// way, so one binder reads every request and one generator writes every contract.
/// </summary>
internal sealed class ServiceModel
{
    private readonly JsonObject _shapes;
    private readonly Dictionary<string, OperationModel> _operations;
    private readonly ConcurrentDictionary<string, Regex> _patterns = new(StringComparer.Ordinal);

    private ServiceModel(JsonObject root)
    {
        _shapes = root["shapes"]!.AsObject();
        RefusesUnknownMembers = root["metadata"]?["refusesUnknownMembers"]?.GetValue<bool>() ?? false;
        _operations = new Dictionary<string, OperationModel>(StringComparer.Ordinal);
        foreach (var (name, node) in root["operations"]!.AsObject())
        {
            var http = node!["http"]!;
            var requestUri = http["requestUri"]!.GetValue<string>();
            var query = requestUri.IndexOf('?', StringComparison.Ordinal);
            _operations[name] = new OperationModel(
                name,
                http["method"]!.GetValue<string>(),
                query < 0 ? requestUri : requestUri[..query],
                node["input"]?["shape"]?.GetValue<string>(),
                node["output"]?["shape"]?.GetValue<string>(),
                this);
        }
    }

    public static ServiceModel Iot { get; } = Load("iot-2015-05-28.json");

    public static ServiceModel Fleetkey { get; } = Load("fleetkey-extensions.json");

    /// <summary>
    /// Whether a body member outside the input shape is refused. AWS ignores unknown members (its SDKs
    /// send none); Fleetkey's own routes are called by hand and by scripts, where a misspelt member
    /// silently ignored would be a setting silently lost.
    /// </summary>
    public bool RefusesUnknownMembers { get; }

    private static ServiceModel Load(string file)
    {
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream("Fleetkey.Api.Wire." + file)
            ?? throw new InvalidOperationException($"The embedded service model {file} is missing.");
        return new ServiceModel(JsonNode.Parse(stream)!.AsObject());
    }

    public OperationModel Operation(string name) =>
        _operations.TryGetValue(name, out var operation) ? operation : throw new ArgumentException($"No operation {name} in the model.", nameof(name));

    public IEnumerable<string> OperationNames() => _operations.Keys;

    public JsonObject Shape(string name) => _shapes[name]!.AsObject();

    /// <summary>Every pattern of the model's shapes (for the test that compiles them all).</summary>
    public IEnumerable<string> Patterns() =>
        _shapes.Select(s => s.Value.Str("pattern")).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The model's patterns are Java regular expressions matched against the whole value. The few
    /// Java-only classes in it are rewritten to their ASCII meaning (as Java defines them).
    /// </summary>
    /// <remarks>
    /// They run on client input, so with the non-backtracking engine: matching is linear in the input
    /// whatever the pattern, and no match can time out (every pattern of the model compiles with it; a
    /// test keeps it so).
    /// </remarks>
    public Regex Pattern(string pattern) => _patterns.GetOrAdd(pattern, static p =>
    {
        var dotnet = p
            .Replace(@"\p{Graph}", @"\x21-\x7E", StringComparison.Ordinal)
            .Replace(@"\p{Upper}", "A-Z", StringComparison.Ordinal)
            .Replace(@"\p{Digit}", "0-9", StringComparison.Ordinal)
            .Replace(@"\p{Cntrl}", @"\x00-\x1F\x7F", StringComparison.Ordinal);
        return new Regex($"^(?:{dotnet})\\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    });
}

/// <summary>One operation: its HTTP binding, its input and output shapes, and the model it is in.</summary>
internal sealed record OperationModel(string Name, string Method, string UriTemplate, string? InputShape, string? OutputShape, ServiceModel Model)
{
    /// <summary>The template's path segments, e.g. <c>["things", "{thingName}"]</c>.</summary>
    public string[] Segments { get; } = UriTemplate.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The route as ASP.NET Core writes it (greedy labels become catch-alls).</summary>
    public string RoutePattern => "/" + string.Join('/', Segments.Select(s => s.EndsWith("+}", StringComparison.Ordinal) ? "{**" + s[1..^2] + "}" : s));
}

internal static class JsonNodeExtensions
{
    public static string? Str(this JsonNode? node, string name) =>
        node is JsonObject o && o.TryGetPropertyValue(name, out var v) && v is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    public static long? Long(this JsonNode? node, string name) =>
        node is JsonObject o && o.TryGetPropertyValue(name, out var v) && v is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<long>() : null;
}

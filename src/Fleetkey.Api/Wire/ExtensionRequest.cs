using System.Globalization;
using System.Text.Json;
using Fleetkey.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Fleetkey.Api.Wire;

/// <summary>
/// The input of a Fleetkey extension route (one that is not in the AWS IoT model, so the model-driven
/// <see cref="RequestBinder"/> cannot bind it): the JSON body and query string, read member by member
/// with every problem collected and thrown as one <c>InvalidRequestException</c> naming each field.
/// Members the route does not know are refused, so a misspelt field is not silently ignored.
/// </summary>
/// <remarks>
/// Routes mapped with plain <c>MapMethods</c> run behind the same middleware as the model's operations:
/// <see cref="AwsErrorMiddleware"/> renders errors, the SigV4 middleware authenticates (it has already
/// buffered and size-checked the body, which is read from that buffer here).
/// </remarks>
internal sealed class ExtensionRequest : IDisposable
{
    private readonly JsonDocument? _document;
    private readonly List<string> _errors = [];
    private Dictionary<string, List<string>>? _query;

    private ExtensionRequest(HttpContext context, JsonDocument? document)
    {
        Context = context;
        _document = document;
    }

    public HttpContext Context { get; }

    /// <summary>Reads the body (empty means no members) and refuses members outside <paramref name="members"/>.</summary>
    /// <remarks>The body passes the same strict JSON check as the model's operations (<see cref="JsonBody"/>).</remarks>
    public static async Task<ExtensionRequest> ReadAsync(HttpContext context, params string[] members)
    {
        var bytes = await JsonBody.ReadObjectAsync(context);
        if (bytes.Length == 0)
        {
            return new ExtensionRequest(context, null);
        }

        var request = new ExtensionRequest(context, JsonDocument.Parse(bytes));
        foreach (var property in request._document!.RootElement.EnumerateObject())
        {
            if (!members.Contains(property.Name, StringComparer.Ordinal))
            {
                request._errors.Add($"'{property.Name}' is not a member of this request (members: {string.Join(", ", members)})");
            }
        }

        return request;
    }

    /// <summary>Whether the body has the member (null included).</summary>
    public bool Has(string member) => Member(member) is not null;

    public string? String(string member)
    {
        if (Member(member) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            _errors.Add($"Value at '{member}' failed to satisfy constraint: Member must be a string");
            return null;
        }

        return Text(member, value.GetString()!);
    }

    public bool? Boolean(string member)
    {
        if (Member(member) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            _errors.Add($"Value at '{member}' failed to satisfy constraint: Member must be a boolean");
            return null;
        }

        return value.GetBoolean();
    }

    public Dictionary<string, string>? StringMap(string member)
    {
        if (Member(member) is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            _errors.Add($"Value at '{member}' failed to satisfy constraint: Member must be an object of strings");
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                _errors.Add($"Value at '{member}.{entry.Name}' failed to satisfy constraint: Member must be a string");
                continue;
            }

            if (Text($"{member}.{entry.Name}", entry.Value.GetString()!) is { } text)
            {
                map[entry.Name] = text;
            }
        }

        return map;
    }

    /// <summary>An integer query parameter; null when absent.</summary>
    public int? QueryInt(string name)
    {
        if (QueryString(name) is not { } text)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        _errors.Add($"Value '{Truncate(text)}' at '{name}' failed to satisfy constraint: Member must be a number");
        return null;
    }

    /// <summary>A query parameter (the last, when it repeats), strictly decoded (<see cref="WireText"/>); null when absent.</summary>
    public string? QueryString(string name)
    {
        _query ??= WireText.Query(Context);
        return _query.TryGetValue(name, out var values) ? Text(name, values[^1]) : null;
    }

    /// <summary>Throws the problems found so far, all in one InvalidRequestException.</summary>
    public void ThrowIfInvalid() => ThrowHelper.ThrowIfInvalid(_errors);

    public void Dispose() => _document?.Dispose();

    // As for the model's operations: no store keeps U+0000 in text (PostgreSQL refuses it).
    private string? Text(string member, string text)
    {
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            _errors.Add($"Value at '{member}' failed to satisfy constraint: Member must not contain the null character");
            return null;
        }

        return text;
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");

    private JsonElement? Member(string member) =>
        _document is not null && _document.RootElement.TryGetProperty(member, out var value) ? value : null;
}

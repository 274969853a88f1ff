using System.Globalization;
using System.Text.Json;
using Fleetkey.Signing;

namespace Fleetkey.Client;

/// <summary>
/// One operation's HTTP request as the model binds its input: the path with its labels
/// percent-encoded, the query parameters, the headers and the JSON body. Built once per call; each
/// attempt turns it into a new signed <see cref="HttpRequestMessage"/>.
/// </summary>
/// <remarks>
/// Labels and query values are encoded as botocore encodes them (<c>percent_encode</c>: only
/// <c>A-Za-z0-9-_.~</c> left as is), which is also SigV4's encoding, so the server sees and signs
/// the same bytes. Query values follow rest-json: booleans as <c>true</c>/<c>false</c>, numbers in
/// invariant decimal, a list as the parameter repeated.
/// </remarks>
internal sealed class OperationRequest(string name, HttpMethod method, string path)
{
    private readonly List<KeyValuePair<string, string>> _query = [];
    private readonly List<KeyValuePair<string, string>> _headers = [];

    public string Name { get; } = name;

    public HttpMethod Method { get; } = method;

    /// <summary>The encoded path, starting with <c>/</c>.</summary>
    public string Path { get; } = path;

    public IReadOnlyList<KeyValuePair<string, string>> Headers => _headers;

    /// <summary>The JSON body, or <see langword="null"/> when the input has no body members.</summary>
    public byte[]? Body { get; private set; }

    /// <summary>The encoded query string without <c>?</c>, parameters in the order added.</summary>
    public string Query => string.Join('&', _query.Select(static p => SigV4Canonical.UriEncode(p.Key) + "=" + SigV4Canonical.UriEncode(p.Value)));

    /// <summary>A URI label: required and non-empty (it is a path segment), encoded with <c>/</c> too.</summary>
    public static string Label(string? value, string member)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"{member} is required and may not be empty: it is a segment of the request path.", member);
        }

        // "." and ".." would be removed from the path by URI normalization on the way out.
        return value is "." or ".." ? value.Replace(".", "%2E", StringComparison.Ordinal) : SigV4Canonical.UriEncode(value);
    }

    /// <summary>An integer URI label (a provisioning template's <c>{versionId}</c>), in invariant decimal.</summary>
    public static string Label(long value, string member) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A greedy URI label (<c>{name+}</c>): like <see cref="Label(string?, string)"/>, but <c>/</c> stays a separator.</summary>
    public static string GreedyLabel(string? value, string member)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"{member} is required and may not be empty: it is part of the request path.", member);
        }

        return SigV4Canonical.UriEncode(value, keepSlash: true);
    }

    public void AddQuery(string name, string? value)
    {
        if (value is not null)
        {
            _query.Add(new(name, value));
        }
    }

    public void AddQuery(string name, bool? value)
    {
        if (value is { } flag)
        {
            _query.Add(new(name, flag ? "true" : "false"));
        }
    }

    public void AddQuery(string name, long? value)
    {
        if (value is { } number)
        {
            _query.Add(new(name, number.ToString(CultureInfo.InvariantCulture)));
        }
    }

    public void AddQuery(string name, IReadOnlyList<string>? values)
    {
        foreach (var value in values ?? [])
        {
            _query.Add(new(name, value));
        }
    }

    public void AddHeader(string name, string? value)
    {
        if (value is not null)
        {
            _headers.Add(new(name, value));
        }
    }

    /// <summary>Writes the body as one JSON object whose members <paramref name="write"/> writes.</summary>
    public void SetJsonBody<T>(T input, Action<Utf8JsonWriter, T> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer, input);
            writer.WriteEndObject();
        }

        Body = buffer.ToArray();
    }
}

using System.Security.Cryptography;
using System.Text;
using Fleetkey.Api.Authentication;
using Microsoft.Extensions.Primitives;

namespace Fleetkey.Api.Tests.Authentication;

/// <summary>Builds <see cref="SigV4Request"/>s from raw HTTP text and holds test secrets.</summary>
internal static class SigV4TestRequests
{
    /// <summary>
    /// Parses a request in the AWS test suite's text form: request line, <c>Name:value</c>
    /// headers (a line starting with whitespace continues the previous value, obs-fold), a blank
    /// line, the body. The target is taken verbatim, as the suite writes it.
    /// </summary>
    public static SigV4Request Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/1.1", StringComparison.Ordinal)];

        var headers = new List<KeyValuePair<string, StringValues>>();
        var index = 1;
        for (; index < lines.Length && lines[index].Length > 0; index++)
        {
            var line = lines[index];
            if (line[0] is ' ' or '\t')
            {
                var previous = headers[^1];
                headers[^1] = new(previous.Key, previous.Value + "\n" + line);
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].TrimStart(' ', '\t')));
        }

        var body = index + 1 < lines.Length ? string.Join('\n', lines[(index + 1)..]) : string.Empty;
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? string.Empty : target[(question + 1)..];
        return new SigV4Request(method, path, query, headers, Hash(Encoding.UTF8.GetBytes(body)));
    }

    public static SigV4Request Create(string method, string path, string query, IEnumerable<(string Name, string Value)> headers, byte[] body) =>
        new(method, path, query, headers.Select(h => new KeyValuePair<string, StringValues>(h.Name, h.Value)).ToList(), Hash(body));

    public static SigV4Request WithHeader(this SigV4Request request, string name, string value) =>
        request with { Headers = [.. request.Headers.Where(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)), new(name, value)] };

    public static SigV4Request WithoutHeader(this SigV4Request request, string name) =>
        request with { Headers = [.. request.Headers.Where(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase))] };

    public static string Hash(byte[] body) => Convert.ToHexStringLower(SHA256.HashData(body));
}

/// <summary>An in-memory <see cref="ISigningSecretProvider"/> that counts lookups.</summary>
internal sealed class InMemorySecrets(params (string AccessKeyId, string Secret)[] keys) : ISigningSecretProvider
{
    private readonly Dictionary<string, string> _keys = keys.ToDictionary(k => k.AccessKeyId, k => k.Secret, StringComparer.Ordinal);

    public int Lookups { get; private set; }

    public ValueTask<string?> FindSecretAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        Lookups++;
        return ValueTask.FromResult(_keys.TryGetValue(accessKeyId, out var secret) ? secret : null);
    }
}

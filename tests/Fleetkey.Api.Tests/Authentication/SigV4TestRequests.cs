using System.Security.Cryptography;
using Fleetkey.Api.Authentication;
using Microsoft.Extensions.Primitives;

namespace Fleetkey.Api.Tests.Authentication;

/// <summary>Builds <see cref="SigV4Request"/>s for the verifier tests.</summary>
internal static class SigV4TestRequests
{
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

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Client;

namespace Fleetkey.Bench;

/// <summary>
/// One <see cref="IotClient"/> over one <see cref="HttpClient"/> for the whole run, as a real
/// service would hold it: a connection per request in flight, kept alive between requests. Retries
/// are off, so that every failed request is counted and none is hidden behind a backoff.
/// </summary>
internal sealed class BenchClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly AwsCredentials _credentials;
    private readonly string _region;

    /// <param name="caBundle">For an https endpoint: the PEM CA certificates its certificate chains to (the server's DIR/ca.pem).</param>
    public BenchClient(Uri endpoint, AccessKey key, string region, int connections, TimeSpan timeout, string? caBundle = null)
        : this(Handler(connections, caBundle), key, region, endpoint, timeout)
    {
    }

    /// <summary>A client that sends through <paramref name="handler"/> (the client-only ceilings answer without a network).</summary>
    public BenchClient(HttpMessageHandler handler, AccessKey key, string region, Uri? endpoint = null, TimeSpan? timeout = null)
    {
        _http = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(60) };
        _credentials = new AwsCredentials(key.AccessKeyId, key.SecretAccessKey, sessionToken: null, "bench");
        _region = region;
        Endpoint = endpoint ?? new Uri("http://127.0.0.1:5080");
        Iot = new IotClient(_http, new IotClientOptions
        {
            Endpoint = Endpoint,
            Region = region,
            AccessKeyId = key.AccessKeyId,
            SecretAccessKey = key.SecretAccessKey,
            MaxAttempts = 1,
        });
        Registrar = new DeviceRegistrar(Iot);
    }

    /// <summary>The server's control-plane URL.</summary>
    public Uri Endpoint { get; }

    public IotClient Iot { get; }

    /// <summary>The seed's register and unregister flows, with the seed's template.</summary>
    public DeviceRegistrar Registrar { get; }

    /// <summary>
    /// <c>POST /access-keys</c> (Fleetkey's CreateAccessKey): a new key that may do what <paramref name="policyDocument"/> allows,
    /// made with this client's key, which must be allowed <c>fleetkey:CreateAccessKey</c> (the root key is).
    /// </summary>
    public async Task<AccessKey> CreateAccessKeyAsync(string description, string policyName, string policyDocument, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["description"] = description,
            ["policies"] = new JsonArray(new JsonObject { ["policyName"] = policyName, ["policyDocument"] = policyDocument }),
        };
        var answer = await SendFleetkeyAsync(HttpMethod.Post, "/access-keys", body, cancellationToken);
        return answer?["accessKeyId"]?.GetValue<string>() is { Length: > 0 } id && answer["secretAccessKey"]?.GetValue<string>() is { Length: > 0 } secret
            ? new AccessKey(id, secret)
            : throw new InvalidOperationException("CreateAccessKey answered without an accessKeyId and a secretAccessKey.");
    }

    /// <summary><c>DELETE /access-keys/{accessKeyId}</c> (Fleetkey's DeleteAccessKey): the key stops signing at once.</summary>
    public Task DeleteAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken) =>
        SendFleetkeyAsync(HttpMethod.Delete, "/access-keys/" + Uri.EscapeDataString(accessKeyId), null, cancellationToken);

    public void Dispose()
    {
        Iot.Dispose();
        _http.Dispose();
    }

    /// <summary>
    /// One request to a route of Fleetkey's own, which <see cref="IotClient"/> has no method for: signed by Fleetkey.Client's
    /// signer as IotClient signs its calls, sent over this client's connections, an error answer thrown as IotClient throws it.
    /// </summary>
    private async Task<JsonNode?> SendFleetkeyAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        var bytes = body is null ? null : Encoding.UTF8.GetBytes(body.ToJsonString());
        using var message = new HttpRequestMessage(method, new Uri(Endpoint.GetLeftPart(UriPartial.Authority) + Endpoint.AbsolutePath.TrimEnd('/') + path));
        if (bytes is not null)
        {
            message.Content = new ByteArrayContent(bytes);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        RequestSigner.Sign(message, bytes ?? [], _credentials, _region, TimeProvider.System.GetUtcNow());
        using var response = await _http.SendAsync(message, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw IotErrors.Create(await IotErrorResponse.ReadAsync(response, cancellationToken));
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private static SocketsHttpHandler Handler(int connections, string? caBundle)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(connections, 1),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (caBundle is not null)
        {
            // Verified as a client of Fleetkey's would: the chain ends in the bundle, the name matches.
            var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
            {
                TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            };
            var bundle = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            bundle.ImportFromPemFile(caBundle);
            policy.CustomTrustStore.AddRange(bundle);
            handler.SslOptions = new System.Net.Security.SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }

        return handler;
    }
}

/// <summary>An access key read from an AWS shared-credentials file (the one <c>fleetkey serve</c> writes in its data directory).</summary>
internal sealed record AccessKey(string AccessKeyId, string SecretAccessKey)
{
    public static AccessKey Read(string path, string profile = "default")
    {
        var inProfile = false;
        string? id = null, secret = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                inProfile = line[1..^1].Trim() == profile;
                continue;
            }

            var parts = line.Split('=', 2, StringSplitOptions.TrimEntries);
            if (!inProfile || parts.Length != 2)
            {
                continue;
            }

            switch (parts[0])
            {
                case "aws_access_key_id":
                    id = parts[1];
                    break;
                case "aws_secret_access_key":
                    secret = parts[1];
                    break;
            }
        }

        return id is not null && secret is not null
            ? new AccessKey(id, secret)
            : throw new InvalidOperationException($"{path} has no aws_access_key_id and aws_secret_access_key in [{profile}].");
    }

    /// <summary>The id only: the secret is never printed.</summary>
    public override string ToString() => AccessKeyId;
}

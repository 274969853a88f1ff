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

    /// <param name="caBundle">For an https endpoint: the PEM CA certificates its certificate chains to (the server's DIR/ca.pem).</param>
    public BenchClient(Uri endpoint, AccessKey key, string region, int connections, TimeSpan timeout, string? caBundle = null)
        : this(Handler(connections, caBundle), key, region, endpoint, timeout)
    {
    }

    /// <summary>A client that sends through <paramref name="handler"/> (the client-only ceilings answer without a network).</summary>
    public BenchClient(HttpMessageHandler handler, AccessKey key, string region, Uri? endpoint = null, TimeSpan? timeout = null)
    {
        _http = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(60) };
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

    public void Dispose()
    {
        Iot.Dispose();
        _http.Dispose();
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

using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Client;

/// <summary>The connections a client makes itself: pooled, recycled, and trusting the CA bundle when one is named.</summary>
internal static class ClientHandler
{
    /// <exception cref="InvalidOperationException">The CA bundle cannot be read or holds no certificate.</exception>
    public static SocketsHttpHandler Create(ClientConfiguration configuration)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (configuration.CaBundle is { } path)
        {
            // The endpoint's chain must end in one of the bundle's certificates, and the host name must match, as with the system's roots.
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(Read(path));
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }

        return handler;
    }

    private static X509Certificate2Collection Read(string path)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPemFile(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"The CA bundle {path} cannot be read: {exception.Message}", exception);
        }

        return bundle.Count > 0 ? bundle : throw new InvalidOperationException($"The CA bundle {path} holds no PEM certificate.");
    }
}

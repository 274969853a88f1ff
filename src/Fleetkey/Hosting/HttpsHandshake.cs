using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Services.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Fleetkey.Hosting;

/// <summary>
/// The HTTPS listeners' side of the handshake: TLS 1.2 or 1.3 with the provider's current server
/// certificate, options made once per certificate (a renewal or a reloaded file serves the next connection).
/// With <paramref name="askClientCertificate"/> the server asks for a client certificate and accepts the
/// handshake with or without one, whatever its chain: the route that needs it (EST renewal) decides
/// by looking it up in the registry (a certificate is known by its exact DER), and nothing else uses it.
/// </summary>
internal sealed class HttpsHandshake(ServerCertificateProvider serverCertificates, bool askClientCertificate)
{
    // No chain download or revocation fetch for a client's certificate: it is judged by the registry, not by a chain.
    private static readonly X509ChainPolicy ClientChainPolicy = new()
    {
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    private static readonly List<SslApplicationProtocol> Protocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    private Entry? _cached;

    public ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context)
    {
        var identity = serverCertificates.Current;
        var cached = Volatile.Read(ref _cached);
        if (cached is null || !ReferenceEquals(cached.Identity, identity))
        {
            // A race makes the same options twice; either serves.
            cached = new Entry(identity, new SslServerAuthenticationOptions
            {
                ServerCertificateContext = identity.Context,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ApplicationProtocols = Protocols,
                ClientCertificateRequired = askClientCertificate,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                CertificateChainPolicy = askClientCertificate ? ClientChainPolicy : null,
#pragma warning disable CA5359 // a client's certificate, judged by the route that uses it (see AcceptAnyClientCertificate)
                RemoteCertificateValidationCallback = askClientCertificate ? AcceptAnyClientCertificate : null,
#pragma warning restore CA5359
            });
            Volatile.Write(ref _cached, cached);
        }

        return ValueTask.FromResult(cached.Options);
    }

    // The client's certificate (a server callback, not a server certificate check) is judged by the route that
    // uses it, against the registry; a device without one still reaches POST /device/register and simpleenroll.
#pragma warning disable CA5359
    private static bool AcceptAnyClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => true;
#pragma warning restore CA5359

    private sealed record Entry(ServerCertificate Identity, SslServerAuthenticationOptions Options);
}

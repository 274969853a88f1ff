using System.Net.Security;
using System.Security.Authentication;
using Fleetkey.Services.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Fleetkey.Hosting;

/// <summary>
/// The HTTPS listeners' side of the handshake: TLS 1.2 or 1.3 with the provider's current server
/// certificate, options made once per certificate (a renewal or a reloaded file serves the next connection).
/// </summary>
internal sealed class HttpsHandshake(ServerCertificateProvider serverCertificates)
{
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
                ClientCertificateRequired = false,
            });
            Volatile.Write(ref _cached, cached);
        }

        return ValueTask.FromResult(cached.Options);
    }

    private sealed record Entry(ServerCertificate Identity, SslServerAuthenticationOptions Options);
}

using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fleetkey.Bench;

/// <summary>
/// The machine's bare mutual-TLS handshake rate, the ceiling of <c>mqtt-connect</c>: an SslStream
/// server and SslStream clients in this process over loopback, with certificates of the kinds a
/// Fleetkey broker and its devices hold (EC P-256 root → EC P-256 issuing CA → EC P-256 server and
/// client certificates). The server requires the client certificate and verifies its chain; the client
/// verifies the server's chain and name. After the handshake the server writes one byte and the client
/// waits for it, so that the client's time includes the server's check of its certificate, as a
/// CONNACK does. No MQTT, no certificate lookup, no policy: what is left when those cost nothing.
/// The clients run at the scenario's concurrency on the thread pool (all cores), server and clients
/// sharing the machine as the broker and the bench do.
/// </summary>
internal static class TlsHandshakeCeiling
{
    public const string Name = "mutual-TLS handshake";

    public const string Description =
        "TCP connect over loopback + TLS handshake (1.2/1.3, the client's EC P-256 certificate required and chain-verified by the server, the server's EC P-256 certificate " +
        "chain-verified by the client) + one byte from the server; SslStream on both sides in process, at the scenario's concurrency";

    public static async Task<CeilingResult> MeasureAsync(int concurrency, TimeSpan duration, int? serverPid, BenchProgress progress, CancellationToken cancellationToken)
    {
        using var pki = LoopbackPki.Create();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1024);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var serverOptions = pki.ServerOptions();
        var accepting = AcceptAsync(listener, serverOptions, stop.Token);
        try
        {
            var clientOptions = pki.ClientOptions();
            LoadDriver.Operation handshake = async (_, ct) =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(endpoint, ct);
                await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
                await tls.AuthenticateAsClientAsync(clientOptions, ct);
                var answer = new byte[1];
                return await tls.ReadAsync(answer, ct) == 1 ? true : throw new IOException("The server closed without its byte.");
            };

            var sequence = -1L;
            long Next() => Interlocked.Increment(ref sequence);

            // Untimed first: JIT, the thread pool's growth, the certificate contexts.
            var warmup = progress.Begin($"ceiling: {Name} (warm-up)", Math.Min(1, duration.TotalSeconds / 4));
            var warm = await LoadDriver.RunAsync(new LoadPlan(concurrency, TimeSpan.FromSeconds(Math.Min(1, duration.TotalSeconds / 4)), null), handshake, Next, serverPid, warmup, cancellationToken);
            warmup.Complete(string.Create(CultureInfo.InvariantCulture, $"{warm.Succeeded:N0} handshakes, {warm.Failed} errors"));

            var phase = progress.Begin($"ceiling: {Name}", duration.TotalSeconds);
            var result = await LoadDriver.RunAsync(new LoadPlan(concurrency, duration, null), handshake, Next, serverPid, phase, cancellationToken);
            if (result.Failed > 0 || warm.Failed > 0)
            {
                throw new InvalidOperationException($"The {Name} ceiling had {result.Failed + warm.Failed} failed handshakes: {string.Join("; ", warm.Errors.Concat(result.Errors).Distinct())}");
            }

            phase.Complete(string.Create(CultureInfo.InvariantCulture,
                $"{result.Rate:N0}/s at {concurrency} in flight, p99 {result.Latency.P99:N1} ms; {pki.ClientChecks:N0} client certificates verified for {result.Succeeded + warm.Succeeded:N0} handshakes"));
            return new CeilingResult(Name, result.Succeeded, result.Seconds, result.Rate, Environment.ProcessorCount, result.Cpu);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Close();
            await accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task AcceptAsync(Socket listener, SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var socket = await listener.AcceptAsync(cancellationToken);
            _ = ServeAsync(socket, options, cancellationToken);
        }
    }

    private static async Task ServeAsync(Socket socket, SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        try
        {
            socket.NoDelay = true;
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsServerAsync(options, cancellationToken);
            await tls.WriteAsync(new byte[] { 0x20 }, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or AuthenticationException or SocketException or OperationCanceledException)
        {
            // The client sees it too and counts the error.
        }
    }

    /// <summary>A two-level EC P-256 CA like Fleetkey's, a server certificate for 127.0.0.1 and one client certificate.</summary>
    private sealed class LoopbackPki : IDisposable
    {
        private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
        private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

        private readonly X509Certificate2 _root;
        private readonly X509Certificate2 _issuing;
        private readonly X509Certificate2 _server;
        private readonly X509Certificate2 _client;
        private long _clientChecks;

        private LoopbackPki(X509Certificate2 root, X509Certificate2 issuing, X509Certificate2 server, X509Certificate2 client)
        {
            _root = root;
            _issuing = issuing;
            _server = server;
            _client = client;
        }

        /// <summary>Client certificates the server verified (a resumed session would skip it).</summary>
        public long ClientChecks => Interlocked.Read(ref _clientChecks);

        public static LoopbackPki Create()
        {
            var now = DateTimeOffset.UtcNow;
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var issuingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var root = Ca("CN=Fleetkey bench TLS root", rootKey, null, null, now);
            var issuing = Ca("CN=Fleetkey bench TLS issuing CA", issuingKey, root, rootKey, now);
            var server = Leaf("CN=127.0.0.1", ServerAuthentication, issuing, issuingKey, now, san =>
            {
                san.AddIpAddress(IPAddress.Loopback);
                san.AddDnsName("localhost");
            });
            var client = Leaf("CN=AWS IoT Certificate", ClientAuthentication, issuing, issuingKey, now, null);
            return new LoopbackPki(root, issuing, server, client);
        }

        public SslServerAuthenticationOptions ServerOptions() => new()
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(_server, [_issuing], offline: true),
            ClientCertificateRequired = true,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = ChainPolicy(),
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                Interlocked.Increment(ref _clientChecks);
                return certificate is not null && errors == SslPolicyErrors.None;
            },
        };

        public SslClientAuthenticationOptions ClientOptions() => new()
        {
            TargetHost = "127.0.0.1",
            ClientCertificateContext = SslStreamCertificateContext.Create(_client, null, offline: true),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = ChainPolicy(),
            RemoteCertificateValidationCallback = (_, _, _, errors) => errors == SslPolicyErrors.None,
        };

        public void Dispose()
        {
            _client.Dispose();
            _server.Dispose();
            _issuing.Dispose();
            _root.Dispose();
        }

        private X509ChainPolicy ChainPolicy()
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(_root);
            policy.ExtraStore.Add(_issuing);
            return policy;
        }

        private static X509Certificate2 Ca(string subject, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey, DateTimeOffset now)
        {
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, issuer is null, issuer is null ? 1 : 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            if (issuer is null)
            {
                return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
            }

            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
            // Its key signs the leaves directly (issuerKey): the certificate itself needs none.
            return request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey!), now.AddDays(-1), now.AddYears(5), Serial());
        }

        private static X509Certificate2 Leaf(string subject, Oid usage, X509Certificate2 issuer, ECDsa issuerKey, DateTimeOffset now, Action<SubjectAlternativeNameBuilder>? names)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
            if (names is not null)
            {
                var san = new SubjectAlternativeNameBuilder();
                names(san);
                request.CertificateExtensions.Add(san.Build());
            }

            using var signed = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), now.AddDays(-1), now.AddYears(1), Serial());
            using var withKey = signed.CopyWithPrivateKey(key);
            return MqttDevice.Usable(withKey);
        }

        private static byte[] Serial()
        {
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F;
            return serial;
        }
    }
}

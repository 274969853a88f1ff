using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Channel;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;

namespace Fleetkey.Bench;

/// <summary>
/// MQTTnet's client over a TLS connection made as a device makes it: the device's certificate and key
/// loaded once (an <see cref="SslStreamCertificateContext"/> per device, as the ceiling's client holds
/// one) and the server's chain and name verified against the target's CA chain on every connection.
/// MQTTnet's own channel hands SslStream a certificate collection, so every connection made a new
/// certificate context (a chain build of the device certificate and a new native TLS context):
/// work no device does per connection, which cost the bench about as much CPU as the handshake.
/// </summary>
internal sealed class DeviceTlsAdapterFactory(MqttTarget target) : IMqttClientAdapterFactory
{
    private readonly ConcurrentDictionary<X509Certificate2, SslStreamCertificateContext> _contexts = new();
    private readonly X509ChainPolicy _serverChain = ServerChainPolicy(target);

    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger)
    {
        var certificate = options.ChannelOptions.TlsOptions.ClientCertificatesProvider.GetCertificates().OfType<X509Certificate2>().Single();
        var context = _contexts.GetOrAdd(certificate, c => SslStreamCertificateContext.Create(c, null, offline: true));
        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = target.Host,
            ClientCertificateContext = context,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = _serverChain,
            RemoteCertificateValidationCallback = (_, _, _, errors) => errors == SslPolicyErrors.None,

            // Every connect a full handshake, the device's certificate checked by the broker, as in the ceiling.
            AllowTlsResume = false,
        };
        var formatter = new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
        return new MqttChannelAdapter(new Channel(target.Host, target.Port, tls), formatter, logger) { PacketInspector = packetInspector };
    }

    private static X509ChainPolicy ServerChainPolicy(MqttTarget target)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        foreach (var certificate in target.TrustChain)
        {
            (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData) ? policy.CustomTrustStore : policy.ExtraStore).Add(certificate);
        }

        return policy;
    }

    private sealed class Channel(string host, int port, SslClientAuthenticationOptions tls) : IMqttChannel
    {
        private Socket? _socket;
        private SslStream? _stream;

        public X509Certificate2? ClientCertificate => null;

        public EndPoint? RemoteEndPoint => _socket?.RemoteEndPoint;

        public EndPoint? LocalEndPoint => _socket?.LocalEndPoint;

        public bool IsSecureConnection => true;

        public async Task ConnectAsync(CancellationToken cancellationToken)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket = socket;
            await socket.ConnectAsync(host, port, cancellationToken);
            _stream = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await _stream.AuthenticateAsClientAsync(tls, cancellationToken);
        }

        public Task DisconnectAsync(CancellationToken cancellationToken)
        {
            Dispose();
            return Task.CompletedTask;
        }

        public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            try
            {
                return _stream is null ? 0 : await _stream.ReadAsync(buffer.AsMemory(offset, count), cancellationToken);
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
        }

        public async Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
        {
            var stream = _stream ?? throw new ObjectDisposedException(nameof(Channel));
            foreach (var segment in buffer)
            {
                await stream.WriteAsync(segment, cancellationToken);
            }

            if (isEndOfPacket)
            {
                await stream.FlushAsync(cancellationToken);
            }
        }

        public void Dispose()
        {
            _stream?.Dispose();
            _socket?.Dispose();
            _stream = null;
        }
    }
}

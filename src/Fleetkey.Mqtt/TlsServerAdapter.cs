using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// The broker's TLS listener, in place of MQTTnet's encrypted endpoint: the same accept loop and
/// channel (MQTTnet's own <see cref="MqttTcpChannel"/> and <see cref="MqttChannelAdapter"/>), but the
/// handshake is given the options <paramref name="tls"/> returns for it, whole (so a renewed server certificate serves the next connection). MQTTnet's endpoint hands SslStream only a server
/// certificate, so every handshake made a new certificate context (a chain build and a new native
/// TLS context) and checked the client's chain against the system's roots before Fleetkey's check;
/// a context made once and a chain policy anchored in Fleetkey's root cost about 2 ms of CPU less per
/// handshake.
/// </summary>
internal sealed partial class TlsServerAdapter(
    Func<SslServerAuthenticationOptions> tls,
    MqttBrokerOptions options,
    ConnectionLimiter limiter,
    BrokerMetrics metrics,
    IMqttNetLogger mqttNetLog,
    ILogger logger) : IMqttServerAdapter
{
    private const int Backlog = 1024;

    private readonly CancellationTokenSource _stopping = new();
    private readonly RunningTasks _connections = new();
    private Socket? _listener;
    private Task? _accepting;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions serverOptions, IMqttNetLogger mqttNetLogger)
    {
        var endpoint = new IPEndPoint(options.BindAddress, options.Port);
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                // "::" is every interface, IPv4 included.
                listener.DualMode = true;
            }

            listener.Bind(endpoint);
            listener.Listen(Backlog);
        }
        catch (SocketException exception)
        {
            listener.Dispose();
            throw new IOException($"The MQTT listener cannot bind {endpoint}: {exception.Message}", exception);
        }

        _listener = listener;
        _accepting = AcceptAsync(listener, serverOptions, _stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        _listener?.Dispose();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Completes when every connection accepted so far has ended (the broker awaits it once MQTTnet has closed its sessions).</summary>
    public Task WhenConnectionsEndedAsync() => _connections.WhenAllAsync();

    public void Dispose()
    {
        _stopping.Cancel();
        _listener?.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptAsync(Socket listener, MqttServerOptions serverOptions, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException exception)
            {
                LogAcceptFailed(logger, exception);
                continue;
            }

            _connections.Add(Task.Run(() => ServeAsync(socket, serverOptions, cancellationToken), CancellationToken.None));
        }
    }

    private async Task ServeAsync(Socket socket, MqttServerOptions serverOptions, CancellationToken cancellationToken)
    {
        var remote = socket.RemoteEndPoint;
        using var lease = limiter.TryAdmit(remote);
        if (lease is null)
        {
            // Over a limit: closed before the handshake costs anything.
            socket.Dispose();
            return;
        }

        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true));

        // From accept to a complete CONNECT, TLS included: a slow or silent client holds its slot no longer.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);
        try
        {
            socket.NoDelay = true;
            try
            {
                await stream.AuthenticateAsServerAsync(tls(), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                metrics.Refused("connect_timeout");
                throw;
            }

            var certificate = stream.RemoteCertificate switch
            {
                null => null,
                X509Certificate2 certificate2 => certificate2,
                { } other => X509CertificateLoader.LoadCertificate(other.GetRawCertData()),
            };
            var state = new MqttConnectionState();
            var guard = new PacketFrameGuard(
                new MqttTcpChannel(stream, socket.LocalEndPoint, remote, certificate), state, options.MaxConnectBytes, options.MaxPacketBytes, metrics, lease.Connected);
            await using var connectDeadline = deadline.Token.Register(() =>
            {
                if (!guard.ConnectReceived)
                {
                    guard.Close("connect_timeout");
                }
            });
            var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(serverOptions.WriterBufferSize, serverOptions.WriterBufferSizeMax));
            using var adapter = new DeviceChannelAdapter(
                new MqttChannelAdapter(guard, formatter, mqttNetLog) { AllowPacketFragmentation = true }, state, options, metrics);
            if (ClientHandler is { } handler)
            {
                await handler(adapter);
            }
        }
        catch (Exception exception) when (exception is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A client that fails the handshake (its certificate is refused and logged by the broker) or drops the connection.
            LogClientFailed(logger, exception, remote);
        }
        catch (Exception exception)
        {
            LogServeFailed(logger, exception, remote);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 8150, EventName = "MqttTlsClientFailed", Level = LogLevel.Debug, Message = "MQTT TLS connection from {Remote} ended")]
    private static partial void LogClientFailed(ILogger logger, Exception exception, EndPoint? remote);

    [LoggerMessage(EventId = 8151, EventName = "MqttTlsServeFailed", Level = LogLevel.Error, Message = "MQTT TLS connection from {Remote} failed")]
    private static partial void LogServeFailed(ILogger logger, Exception exception, EndPoint? remote);

    [LoggerMessage(EventId = 8152, EventName = "MqttTlsAcceptFailed", Level = LogLevel.Warning, Message = "Accepting an MQTT TLS connection failed")]
    private static partial void LogAcceptFailed(ILogger logger, Exception exception);
}

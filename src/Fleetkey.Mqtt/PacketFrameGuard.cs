using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;

namespace Fleetkey.Mqtt;

/// <summary>
/// Reads MQTT's framing (RFC-style: a type byte, a remaining length of up to four bytes, a body) off the
/// bytes as they pass from the TLS stream to MQTTnet, and ends the connection the moment a frame is not
/// allowed: the first packet is not CONNECT, a remaining length is over its limit (CONNECT
/// <see cref="MqttBrokerOptions.MaxConnectBytes"/>, any other <see cref="MqttBrokerOptions.MaxPacketBytes"/>), a second
/// CONNECT, an AUTH (no enhanced authentication here) or a reserved type. MQTTnet allocates a packet's
/// whole body before reading it, so a 250 MB CONNECT was buffered whole; here its fifth byte closes it.
/// </summary>
/// <remarks>
/// The guard answers a refused read with end of stream (MQTTnet then closes the connection as if the
/// client had) rather than an exception, which MQTTnet would log as a server error.
/// </remarks>
/// <param name="onConnect">Called on the reading thread the moment the first CONNECT has been read whole, before MQTTnet
/// sees it: the connection's pending slot is free before its CONNACK can reach the client (a continuation
/// queued to a busy thread pool freed it later, so a closed-loop client counted twice for a moment).</param>
internal sealed class PacketFrameGuard(IMqttChannel inner, MqttConnectionState state, int maxConnectBytes, int maxPacketBytes, BrokerMetrics metrics, Action onConnect) : IMqttChannel
{
    private const int Connect = 1;
    private const int Auth = 15;

    private Stage _stage = Stage.Type;
    private int _type;
    private int _length;
    private int _lengthBytes;
    private int _bodyLeft;
    private volatile bool _connectSeen;
    private volatile bool _closed;

    private enum Stage
    {
        Type,
        Length,
        Body,
    }

    /// <summary>Whether the first CONNECT has been read whole (its content is MQTTnet's and the broker's to judge).</summary>
    public bool ConnectReceived => _connectSeen;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, isEndOfPacket, cancellationToken);

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            return 0;
        }

        var read = await inner.ReadAsync(buffer, offset, count, cancellationToken);
        if (read > 0 && Inspect(buffer.AsSpan(offset, read)) is { } reason)
        {
            Close(reason);
            return 0;
        }

        return read;
    }

    /// <summary>Ends the connection for <paramref name="reason"/> (also from outside: a CONNECT that did not come in time).</summary>
    public void Close(string reason)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (state.Violate(reason))
        {
            if (_connectSeen)
            {
                metrics.Violated(reason);
            }
            else
            {
                metrics.Refused(reason);
            }
        }

        // Closing the stream ends a read MQTTnet may be waiting in, and sends nothing more of the client's to it.
        inner.Dispose();
    }

    public void Dispose() => inner.Dispose();

    /// <summary>Follows the frames through <paramref name="bytes"/>; the reason to close, or null.</summary>
    internal string? Inspect(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            switch (_stage)
            {
                case Stage.Type:
                    _type = bytes[i++] >> 4;
                    if (!_connectSeen && _type != Connect)
                    {
                        return "first_packet_not_connect";
                    }

                    if (_connectSeen && _type == Connect)
                    {
                        return "second_connect";
                    }

                    if (_type is 0 or Auth)
                    {
                        return _type == Auth ? "auth_not_supported" : "malformed_packet";
                    }

                    _stage = Stage.Length;
                    _length = 0;
                    _lengthBytes = 0;
                    break;

                case Stage.Length:
                    var encoded = bytes[i++];
                    _length |= (encoded & 0x7f) << (7 * _lengthBytes);
                    _lengthBytes++;
                    if (_length > (_type == Connect ? maxConnectBytes : maxPacketBytes))
                    {
                        return "packet_too_large";
                    }

                    if ((encoded & 0x80) != 0)
                    {
                        if (_lengthBytes == 4)
                        {
                            return "malformed_packet";
                        }

                        break;
                    }

                    _bodyLeft = _length;
                    _stage = Stage.Body;
                    if (_bodyLeft == 0)
                    {
                        EndFrame();
                    }

                    break;

                case Stage.Body:
                    var take = Math.Min(_bodyLeft, bytes.Length - i);
                    i += take;
                    _bodyLeft -= take;
                    if (_bodyLeft == 0)
                    {
                        EndFrame();
                    }

                    break;
            }
        }

        return null;
    }

    private void EndFrame()
    {
        _stage = Stage.Type;
        if (_type == Connect)
        {
            if (!_connectSeen)
            {
                _connectSeen = true;
                onConnect();
            }
        }
    }
}

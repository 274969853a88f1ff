using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Fleetkey.Testing;

/// <summary>MQTT packets as bytes, built by hand so that tests can send what no client library would (oversized, malformed, forbidden).</summary>
public static class MqttPackets
{
    public static byte[] Connect(string clientId, int version = 5, Action<List<byte>>? properties = null, bool cleanStart = true)
    {
        var body = new List<byte>();
        Str(body, "MQTT");
        body.Add((byte)version);
        body.Add(cleanStart ? (byte)0x02 : (byte)0x00);
        body.AddRange([0, 60]);
        if (version == 5)
        {
            var props = new List<byte>();
            properties?.Invoke(props);
            body.AddRange(VarInt(props.Count));
            body.AddRange(props);
        }

        Str(body, clientId);
        return Frame(0x10, body);
    }

    public static byte[] Publish(string topic, byte[] payload, int qos = 0, ushort packetId = 1, int version = 5, ushort topicAlias = 0, bool retain = false)
    {
        var body = new List<byte>();
        Str(body, topic);
        if (qos > 0)
        {
            body.Add((byte)(packetId >> 8));
            body.Add((byte)packetId);
        }

        if (version == 5)
        {
            var props = new List<byte>();
            if (topicAlias != 0)
            {
                props.Add(0x23);
                props.Add((byte)(topicAlias >> 8));
                props.Add((byte)topicAlias);
            }

            body.AddRange(VarInt(props.Count));
            body.AddRange(props);
        }

        body.AddRange(payload);
        return Frame((byte)(0x30 | (qos << 1) | (retain ? 1 : 0)), body);
    }

    public static byte[] Subscribe(ushort packetId, int version, params (string Filter, int Qos)[] filters)
    {
        var body = new List<byte> { (byte)(packetId >> 8), (byte)packetId };
        if (version == 5)
        {
            body.Add(0);
        }

        foreach (var (filter, qos) in filters)
        {
            Str(body, filter);
            body.Add((byte)qos);
        }

        return Frame(0x82, body);
    }

    public static byte[] PingReq() => [0xc0, 0x00];

    /// <summary>A fixed header announcing <paramref name="remainingLength"/> bytes (the body is the caller's to send, or not).</summary>
    public static byte[] Header(byte typeAndFlags, int remainingLength) => [typeAndFlags, .. VarInt(remainingLength)];

    public static byte[] VarInt(int value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value % 128);
            value /= 128;
            bytes.Add(value > 0 ? (byte)(b | 0x80) : b);
        }
        while (value > 0);
        return [.. bytes];
    }

    public static void Str(List<byte> body, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        body.Add((byte)(bytes.Length >> 8));
        body.Add((byte)bytes.Length);
        body.AddRange(bytes);
    }

    private static byte[] Frame(byte first, List<byte> body) => [first, .. VarInt(body.Count), .. body];
}

/// <summary>One packet read off the wire: its first byte and body.</summary>
public sealed record RawPacket(byte First, byte[] Body)
{
    public int Type => First >> 4;

    /// <summary>CONNACK: its reason code (MQTT 5) or return code (3.1.1).</summary>
    public byte ConnAckCode => Body[1];
}

/// <summary>
/// A TLS connection to the broker that sends and reads raw MQTT bytes: the attacker's view of the
/// listener. <see cref="ReadPacketAsync"/> returns null when the broker closed the connection.
/// </summary>
public sealed class RawMqttConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;

    private RawMqttConnection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        Tls = tls;
    }

    public SslStream Tls { get; }

    /// <summary>Opens TCP and completes the TLS handshake presenting <paramref name="certificate"/>; throws AuthenticationException/IOException when the broker refuses it.</summary>
    public static async Task<RawMqttConnection> OpenAsync(
        int port, X509Certificate2? certificate, X509Certificate2 root, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13, CancellationToken cancellationToken = default)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            var chainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            chainPolicy.CustomTrustStore.Add(root);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ClientCertificates = certificate is null ? null : [certificate],
                    EnabledSslProtocols = protocols,
                    CertificateChainPolicy = chainPolicy,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                cancellationToken);
            return new RawMqttConnection(tcp, tls);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken = default)
    {
        await Tls.WriteAsync(bytes, cancellationToken);
        await Tls.FlushAsync(cancellationToken);
    }

    /// <summary>The next packet, or null once the broker closed the connection (or reset it) or <paramref name="timeout"/> passed.</summary>
    public async Task<RawPacket?> ReadPacketAsync(TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            var first = new byte[1];
            if (!await ReadExactlyAsync(first, wait.Token))
            {
                return null;
            }

            var length = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = new byte[1];
                if (!await ReadExactlyAsync(b, wait.Token))
                {
                    return null;
                }

                length |= (b[0] & 0x7f) << shift;
                if ((b[0] & 0x80) == 0)
                {
                    break;
                }
            }

            var body = new byte[length];
            return await ReadExactlyAsync(body, wait.Token) ? new RawPacket(first[0], body) : null;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or AuthenticationException)
        {
            return null;
        }
    }

    /// <summary>True when the broker closes (or resets) the connection within <paramref name="timeout"/>, whatever it sends first.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            var remaining = until - DateTime.UtcNow;
            using var wait = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            try
            {
                var buffer = new byte[4096];
                if (await Tls.ReadAsync(buffer, wait.Token) == 0)
                {
                    return true;
                }
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await Tls.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await Tls.DisposeAsync();
        _tcp.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;
using CsCheck;
using Fleetkey.Mqtt;
using Fleetkey.Pki;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Fleetkey.Fuzz.Tests;

/// <summary>
/// MQTT packet handling through the broker's real TLS listener: an authorized device connects and
/// sends packets built to break rules (wildcards and NUL in topics, aliases, QoS 2, oversized and
/// truncated frames, unknown types, second CONNECTs) and bytes mutated at random. Properties: the
/// server logs no error, answers each connection or closes it (it never hangs on one), releases every
/// connection slot, and a well-behaved device can still connect afterwards.
/// </summary>
public sealed class MqttListenerFuzzTests : IAsyncLifetime
{
    private static readonly string[] Topics =
        ["t/a", "t/+", "t/#", "#", "+", "t/\0", "", "$aws/events/presence/connected/x", "$aws/certificates/create/json", "t/é", new string('a', 300), "t//b", "/"];

    private static readonly string[] Filters =
        ["t/#", "#", "+/+", "t/#/b", "t/a+", "$share/g/t", "$aws/events/#", "", "t/\0", new string('f', 300), "$aws/certificates/create/json/accepted"];

    private readonly ErrorLog _errors = new();
    private FleetkeyTestHost _host = null!;
    private TestDevice _device = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            _port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _host = await FleetkeyTestHost.StartAsync(builder => builder.Logging.AddProvider(_errors), mqttPort: _port);
        _device = await _host.CreateDeviceAsync("fuzz-device");
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Gen<byte[]> Packet(int version) => Gen.OneOf(
        Gen.Select(Gen.Int[0, Topics.Length - 1], Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 12], Gen.Int[0, 400], (t, qos, retain, alias, size) =>
            MqttPackets.Publish(Topics[t], new byte[size], qos: Math.Min(qos, 2), version: version, topicAlias: version == 5 ? (ushort)alias : (ushort)0, retain: retain)),
        Gen.Select(Gen.Int[0, Filters.Length - 1].Array[0, 10], Gen.Int[0, 3], (fs, qos) =>
            MqttPackets.Subscribe(7, version, [.. fs.Select(f => (Filters[f], qos))])),
        Gen.Select(Gen.Int[0, Filters.Length - 1], f => Unsubscribe(Filters[f], version)),
        Gen.Const(MqttPackets.PingReq()),
        Gen.Const(new byte[] { 0xf0, 0x00 }),
        Gen.Const(MqttPackets.Connect("again", version)),
        Gen.Select(Gen.Byte, Gen.Byte.Array[0, 120], (first, body) => (byte[])[first, .. MqttPackets.VarInt(body.Length), .. body]),
        Gen.Select(Gen.Byte, Gen.Int[0, 300_000_000], (first, length) => MqttPackets.Header(first, length)),
        Gen.Byte.Array[0, 48]);

    // One connection: a CONNECT (usually well formed), packets, and now and then a byte flipped anywhere.
    private static readonly Gen<(byte[] Stream, string Label)> Connections =
        from version in Gen.OneOf(Gen.Const(4), Gen.Const(5))
        from clientId in Gen.OneOf(Gen.Const("fuzz-device"), Gen.String[0, 20], Gen.Const("dev\0x"), Gen.Const("a#b"))
        from packets in Packet(version).Array[0, 6]
        from flip in Gen.Int[-1, 400]
        from flipped in Gen.Byte
        select Build(version, clientId, packets, flip, flipped);

    private static (byte[] Stream, string Label) Build(int version, string clientId, byte[][] packets, int flip, byte flipped)
    {
        byte[] stream = [.. MqttPackets.Connect(clientId, version), .. packets.SelectMany(p => p)];
        if (flip >= 0 && flip < stream.Length)
        {
            stream[flip] = flipped;
        }

        return (stream, $"v{version} {Convert.ToHexString(stream.AsSpan(0, Math.Min(stream.Length, 96)))}");
    }

    [Fact]
    public async Task Listener_HostilePacketSequences_NoErrorNoHangNoLeakedSlot()
    {
        var root = _host.Services.GetRequiredService<CertificateAuthority>().Root;
        var tried = 0;
        await Fuzz.RunAsync("mqtt.listener", Connections, async input =>
        {
            await using (var connection = await RawMqttConnection.OpenAsync(_port, _device.Certificate, root))
            {
                await connection.SendAsync(input.Stream).ConfigureAwait(false);

                // The client is done: the broker must answer and close, or close, within its own limits.
                try
                {
                    await connection.Tls.ShutdownAsync();
                }
                catch (IOException)
                {
                }

                Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(15)), $"connection still open: {input.Label}");
            }

            Assert.True(_errors.Errors.IsEmpty, $"{input.Label}\n{string.Join('\n', _errors.Errors)}");
            if (++tried % 250 == 0)
            {
                await AssertStillServesAsync(root);
            }
        }, cases: 1_500);

        await AssertStillServesAsync(root);
        var limiter = _host.Services.GetRequiredService<ConnectionLimiter>();
        await Signals.WaitUntilAsync(() => limiter.NextRelease, () => limiter.Open == 0);
        Assert.Empty(_errors.Errors);
    }

    [Theory]
    [InlineData("101000")] // CONNECT announcing no body
    [InlineData("10ffffffff7f")] // a remaining length of five bytes
    [InlineData("1080808001")] // a 2 MB CONNECT
    [InlineData("3080808080")] // a remaining length that never ends
    public async Task Listener_RegressionInputs_Closed(string hex)
    {
        var root = _host.Services.GetRequiredService<CertificateAuthority>().Root;
        await using var connection = await RawMqttConnection.OpenAsync(_port, _device.Certificate, root);

        await connection.SendAsync(Convert.FromHexString(hex));

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(15)));
        Assert.Empty(_errors.Errors);
    }

    [Theory]
    [InlineData(5, "3005ffffffffff")] // PUBLISH whose topic is longer than the packet
    [InlineData(4, "3005ffffffffff")]
    [InlineData(5, "82020001")] // SUBSCRIBE without a filter
    [InlineData(5, "3006000174ffffff")] // PUBLISH whose properties run past the packet
    [InlineData(5, "400100")] // PUBACK too short
    [InlineData(5, "a2020001")] // UNSUBSCRIBE without a filter
    [InlineData(5, "e00181")] // DISCONNECT with a reason code and no room for properties
    public async Task Listener_MalformedBodyAfterConnect_ClosedWithoutAnError(int version, string hex)
    {
        var root = _host.Services.GetRequiredService<CertificateAuthority>().Root;
        await using var connection = await RawMqttConnection.OpenAsync(_port, _device.Certificate, root);
        await connection.SendAsync(MqttPackets.Connect("fuzz-device", version));
        Assert.Equal(0, (await connection.ReadPacketAsync())!.ConnAckCode);

        await connection.SendAsync(Convert.FromHexString(hex));

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(15)));
        for (var i = 0; i < 50 && _errors.Errors.IsEmpty; i++)
        {
            await Task.Delay(10);
        }

        Assert.Empty(_errors.Errors);
    }

    private async Task AssertStillServesAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 root)
    {
        await using var connection = await RawMqttConnection.OpenAsync(_port, _device.Certificate, root);
        await connection.SendAsync(MqttPackets.Connect("fuzz-device"));
        var connAck = await connection.ReadPacketAsync();
        Assert.NotNull(connAck);
        Assert.Equal(0, connAck.ConnAckCode);
    }

    private static byte[] Unsubscribe(string filter, int version)
    {
        var body = new List<byte> { 0, 9 };
        if (version == 5)
        {
            body.Add(0);
        }

        MqttPackets.Str(body, filter);
        return [0xa2, .. MqttPackets.VarInt(body.Count), .. body];
    }
}

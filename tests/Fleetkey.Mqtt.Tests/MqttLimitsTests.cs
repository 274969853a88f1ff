using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Fleetkey.Pki;
using Fleetkey.Services.Security;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit;

namespace Fleetkey.Mqtt.Tests;

/// <summary>
/// The broker's limits and protocol rules through its real TLS listener, with raw MQTT bytes: what an
/// attacker or a broken client sends. Every test fails if anything logged an error.
/// </summary>
public sealed class MqttLimitsTests : IAsyncDisposable
{
    private readonly ErrorLog _errors = new();
    private FleetkeyTestHost? _host;
    private int _port;

    private FleetkeyTestHost Host => _host ?? throw new InvalidOperationException("StartAsync first");

    private async Task<FleetkeyTestHost> StartAsync(Action<MqttBrokerOptions>? configure = null)
    {
        _port = FreePort();
        _host = await FleetkeyTestHost.StartAsync(
            builder =>
            {
                builder.Logging.AddProvider(_errors);
                if (configure is not null)
                {
                    builder.Services.Configure(configure);
                }
            },
            mqttPort: _port);
        return _host;
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        Assert.Empty(_errors.Errors);
    }

    private MetricRecorder Refusals() => new(Host.Services.GetRequiredService<Meter>(), "fleetkey.mqtt.connect_refusals", "reason");

    private MetricRecorder Violations() => new(Host.Services.GetRequiredService<Meter>(), "fleetkey.mqtt.protocol_violations", "reason");

    private Task<RawMqttConnection> OpenAsync(TestDevice? device, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13) =>
        RawMqttConnection.OpenAsync(_port, device?.Certificate, Host.Services.GetRequiredService<CertificateAuthority>().Root, protocols);

    /// <summary>A connection past CONNECT: CONNACK success read.</summary>
    private async Task<RawMqttConnection> ConnectedAsync(TestDevice device, int version = 5)
    {
        var connection = await OpenAsync(device);
        await connection.SendAsync(MqttPackets.Connect(device.ThingName, version));
        var connAck = await connection.ReadPacketAsync();
        Assert.NotNull(connAck);
        Assert.Equal(2, connAck.Type);
        Assert.Equal(0, connAck.ConnAckCode);
        return connection;
    }

    [Fact]
    public async Task Connect_HeaderAnnounces250MegabyteConnect_ClosedBeforeTheBodyIsRead()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("big-connect");
        using var refusals = Refusals();
        await using var connection = await OpenAsync(device);

        await connection.SendAsync(MqttPackets.Header(0x10, 250 * 1024 * 1024));
        var sent = await SendUntilRefusedAsync(connection, 16 * 1024 * 1024);

        Assert.True(sent < 16 * 1024 * 1024, $"the broker read {sent} bytes of a CONNECT announced at 250 MB");
        Assert.True(await refusals.WaitForAsync("packet_too_large"));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    public async Task Publish_PayloadOverTheLimit_ConnectionClosedAndNothingDelivered(int version)
    {
        await StartAsync(o => o.MaxPayloadBytes = 4096);
        var device = await Host.CreateDeviceAsync("big-publish");
        var watcher = await Host.CreateDeviceAsync("watcher");
        await using var subscriber = await ConnectedAsync(watcher);
        await subscriber.SendAsync(MqttPackets.Subscribe(1, 5, ("big/#", 0)));
        Assert.Equal(9, (await subscriber.ReadPacketAsync())!.Type);
        using var violations = Violations();
        await using var connection = await ConnectedAsync(device, version);

        // Under the packet limit (payload + 8 KiB), over the payload limit: refused after decoding.
        await connection.SendAsync(MqttPackets.Publish("big/one", new byte[5000], qos: 1, version: version));

        var answer = await connection.ReadPacketAsync();
        if (version == 5)
        {
            Assert.NotNull(answer);
            Assert.Equal(14, answer.Type);
            Assert.Equal((byte)MqttDisconnectReasonCode.PacketTooLarge, answer.Body[0]);
        }

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(["packet_too_large"], violations.Values);
        Assert.Null(await subscriber.ReadPacketAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Publish_HeaderOverThePacketLimit_ClosedAfterTheHeader()
    {
        await StartAsync(o => o.MaxPayloadBytes = 4096);
        var device = await Host.CreateDeviceAsync("huge-publish");
        using var violations = Violations();
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Header(0x30, 20 * 1024 * 1024));
        var sent = await SendUntilRefusedAsync(connection, 20 * 1024 * 1024);

        Assert.True(sent < 20 * 1024 * 1024, $"the broker read {sent} bytes of a 20 MB PUBLISH");
        Assert.True(await violations.WaitForAsync("packet_too_large"));
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Handshake_InactiveCertificate_RefusedWithoutReadingMqtt(SslProtocols protocol)
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("inactive", active: false);
        using var refusals = Refusals();

        Assert.Null(await ConnAckOrNullAsync(device, protocol));
        Assert.True(await refusals.WaitForAsync("certificate_not_active"));
    }

    [Fact]
    public async Task Handshake_DeletedCertificate_RefusedAsUnknown()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("deleted", active: false);
        await DetachAndDeleteAsync(device);
        using var refusals = Refusals();

        Assert.Null(await ConnAckOrNullAsync(device, SslProtocols.Tls12));

        Assert.True(await refusals.WaitForAsync("certificate_unknown"));
    }

    [Fact]
    public async Task FirstPacket_NotConnect_Closed()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("no-connect");
        using var refusals = Refusals();
        await using var connection = await OpenAsync(device);

        await connection.SendAsync(MqttPackets.PingReq());

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await refusals.WaitForAsync("first_packet_not_connect"));
    }

    [Fact]
    public async Task Connect_NotSentInTime_Closed()
    {
        await StartAsync(o => o.ConnectTimeout = TimeSpan.FromSeconds(1));
        var device = await Host.CreateDeviceAsync("silent");
        using var refusals = Refusals();
        await using var connection = await OpenAsync(device);

        // Half a CONNECT, then nothing.
        await connection.SendAsync(MqttPackets.Connect("silent")[..6]);

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await refusals.WaitForAsync("connect_timeout"));
    }

    [Fact]
    public async Task Accept_MorePendingThanAllowedFromOneAddress_RefusedUntilOneConnects()
    {
        await StartAsync(o => o.MaxPendingPerAddress = 2);
        var device = await Host.CreateDeviceAsync("pending");
        using var refusals = Refusals();
        Socket[] sockets = [await OpenTcpAsync(), await OpenTcpAsync(), await OpenTcpAsync()];

        // The broker admits connections as its accept tasks run, not strictly in order: one of the three is refused.
        var closed = await Task.WhenAll(sockets.Select(ClosedAsync));

        Assert.Equal(1, closed.Count(c => c));
        Assert.True(await refusals.WaitForAsync("pending_limit"));
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        var limiter = Host.Services.GetRequiredService<ConnectionLimiter>();
        await Signals.WaitUntilAsync(() => limiter.NextRelease, () => limiter.Open == 0);
        await using var connected = await ConnectedAsync(device);
    }

    [Fact]
    public async Task Accept_MoreConnectionsThanAllowedFromOneAddress_Refused()
    {
        await StartAsync(o => o.MaxConnectionsPerAddress = 2);
        var a = await Host.CreateDeviceAsync("per-address-a");
        var b = await Host.CreateDeviceAsync("per-address-b");
        var c = await Host.CreateDeviceAsync("per-address-c");
        using var refusals = Refusals();
        await using var first = await ConnectedAsync(a);
        await using var second = await ConnectedAsync(b);

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var third = await OpenAsync(c);
            Assert.Null(await third.ReadPacketAsync(TimeSpan.FromSeconds(2)));
            throw new IOException("closed");
        });

        Assert.True(await refusals.WaitForAsync("address_limit"));
    }

    [Theory]
    [InlineData("a/+", 5)]
    [InlineData("a/#", 5)]
    [InlineData("a/+", 4)]
    [InlineData("a/\u0000b", 5)]
    public async Task Publish_TopicNameBreaksTheRules_ClosedAndNotDelivered(string topic, int version)
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("wild");
        var watcher = await Host.CreateDeviceAsync("wild-watcher");
        await using var subscriber = await ConnectedAsync(watcher);
        await subscriber.SendAsync(MqttPackets.Subscribe(1, 5, ("#", 0)));
        Assert.Equal(9, (await subscriber.ReadPacketAsync())!.Type);
        using var violations = Violations();
        await using var connection = await ConnectedAsync(device, version);

        await connection.SendAsync(MqttPackets.Publish(topic, "x"u8.ToArray(), qos: 1, version: version));

        var answer = await connection.ReadPacketAsync();
        if (version == 5)
        {
            Assert.NotNull(answer);
            Assert.Equal(14, answer.Type);
            Assert.Equal((byte)MqttDisconnectReasonCode.TopicNameInvalid, answer.Body[0]);
        }
        else
        {
            Assert.Null(answer);
        }

        Assert.Equal(["topic_invalid"], violations.Values);
        for (var packet = await subscriber.ReadPacketAsync(TimeSpan.FromMilliseconds(500)); packet is not null; packet = await subscriber.ReadPacketAsync(TimeSpan.FromMilliseconds(500)))
        {
            // Presence events may arrive; the forbidden publish may not.
            Assert.DoesNotContain(topic, Encoding.UTF8.GetString(packet.Body), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Publish_TopicAliasOverTheMaximum_DisconnectedWithTopicAliasInvalid()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("alias");
        using var violations = Violations();
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Publish("a/b", "x"u8.ToArray(), topicAlias: MqttBrokerOptions.TopicAliasMaximum));
        await connection.SendAsync(MqttPackets.Publish(string.Empty, "x"u8.ToArray(), topicAlias: MqttBrokerOptions.TopicAliasMaximum));
        await connection.SendAsync(MqttPackets.Publish("a/c", "x"u8.ToArray(), topicAlias: MqttBrokerOptions.TopicAliasMaximum + 1));

        var answer = await connection.ReadPacketAsync();
        Assert.NotNull(answer);
        Assert.Equal(14, answer.Type);
        Assert.Equal((byte)MqttDisconnectReasonCode.TopicAliasInvalid, answer.Body[0]);
        Assert.Equal(["topic_alias_invalid"], violations.Values);
    }

    [Fact]
    public async Task Publish_EmptyTopicWithAnAliasNeverSet_ProtocolError()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("alias-unset");
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Publish(string.Empty, "x"u8.ToArray(), topicAlias: 3));

        var answer = await connection.ReadPacketAsync();
        Assert.NotNull(answer);
        Assert.Equal((byte)MqttDisconnectReasonCode.ProtocolError, answer.Body[0]);
    }

    [Fact]
    public async Task Publish_QoS2_DisconnectedWithQoSNotSupported()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("qos2");
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Publish("a/b", "x"u8.ToArray(), qos: 2));

        var answer = await connection.ReadPacketAsync();
        Assert.NotNull(answer);
        Assert.Equal((byte)MqttDisconnectReasonCode.QoSNotSupported, answer.Body[0]);
    }

    [Fact]
    public async Task Subscribe_QoS2_GrantedQoS1AndFiltersBeyondTheQuotaRefused()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("subs");
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Subscribe(1, 5, ("q/2", 2), ("a/#/b", 1)));
        var subAck = await connection.ReadPacketAsync();
        Assert.NotNull(subAck);
        byte[] granted = subAck.Body[3..];
        Assert.Equal([(byte)MqttSubscribeReasonCode.GrantedQoS1, (byte)MqttSubscribeReasonCode.TopicFilterInvalid], granted);

        // One connection holds at most 50 filters (q/2 is one of them); the same filter again costs nothing.
        for (var i = 0; i < MqttBrokerOptions.MaxSubscriptionsPerConnection - 1; i++)
        {
            await connection.SendAsync(MqttPackets.Subscribe((ushort)(i + 2), 5, ($"s/{i}", 1)));
            Assert.Equal((byte)MqttSubscribeReasonCode.GrantedQoS1, (await connection.ReadPacketAsync())!.Body[3]);
        }

        await connection.SendAsync(MqttPackets.Subscribe(100, 5, ("s/one-too-many", 1), ("q/2", 1)));
        var last = await connection.ReadPacketAsync();
        byte[] codes = last!.Body[3..];
        Assert.Equal([(byte)MqttSubscribeReasonCode.QuotaExceeded, (byte)MqttSubscribeReasonCode.GrantedQoS1], codes);
    }

    [Fact]
    public async Task Subscribe_MoreFiltersThanOnePacketMayHold_Disconnected()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("many-filters");
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Subscribe(1, 5, [.. Enumerable.Range(0, MqttBrokerOptions.MaxFiltersPerSubscribe + 1).Select(i => ($"f/{i}", 0))]));

        var answer = await connection.ReadPacketAsync();
        Assert.NotNull(answer);
        Assert.Equal(14, answer.Type);
        Assert.Equal((byte)MqttDisconnectReasonCode.QuotaExceeded, answer.Body[0]);
    }

    [Fact]
    public async Task Publish_RetainedOverTheNodesQuota_PubAckQuotaExceeded()
    {
        await StartAsync(o => o.MaxRetainedMessages = 1);
        var device = await Host.CreateDeviceAsync("retain");
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Publish("r/1", "x"u8.ToArray(), qos: 1, packetId: 1, retain: true));
        await connection.SendAsync(MqttPackets.Publish("r/2", "x"u8.ToArray(), qos: 1, packetId: 2, retain: true));
        await connection.SendAsync(MqttPackets.Publish("r/1", [], qos: 1, packetId: 3, retain: true));
        await connection.SendAsync(MqttPackets.Publish("r/2", "x"u8.ToArray(), qos: 1, packetId: 4, retain: true));

        var codes = new List<byte>();
        for (var i = 0; i < 4; i++)
        {
            var pubAck = await connection.ReadPacketAsync();
            Assert.NotNull(pubAck);
            Assert.Equal(4, pubAck.Type);
            codes.Add(pubAck.Body.Length > 2 ? pubAck.Body[2] : (byte)0);
        }

        // Success is 0 or 0x10 (no matching subscribers); the second retained topic is over the quota of one.
        Assert.Equal([false, true, false, false], codes.Select(c => c == (byte)MqttPubAckReasonCode.QuotaExceeded));
        Assert.All(codes.Where(c => c != (byte)MqttPubAckReasonCode.QuotaExceeded), c => Assert.True(c < 0x80, $"PUBACK {c:x2}"));
    }

    [Theory]
    [InlineData("dev\u0000ice", 5, (byte)MqttConnectReasonCode.ClientIdentifierNotValid)]
    [InlineData("dev\u0000ice", 4, 2)]
    [InlineData("tab\tbed", 5, (byte)MqttConnectReasonCode.ClientIdentifierNotValid)]
    public async Task Connect_ClientIdWithControlCharacters_Refused(string clientId, int version, byte code)
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("ctl");
        await using var connection = await OpenAsync(device);

        await connection.SendAsync(MqttPackets.Connect(clientId, version));

        var connAck = await connection.ReadPacketAsync();
        Assert.NotNull(connAck);
        Assert.Equal(code, connAck.ConnAckCode);
    }

    [Theory]
    [InlineData("dev#1")]
    [InlineData("dev+1")]
    public async Task Connect_ClientIdWithWildcard_ConnectsWithoutLifecycleEventsAndNoError(string clientId)
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("wild-id");
        var watcher = await Host.CreateDeviceAsync("presence-watcher");
        await using var subscriber = await ConnectedAsync(watcher);
        await subscriber.SendAsync(MqttPackets.Subscribe(1, 5, ("$aws/events/presence/#", 0)));
        Assert.Equal(9, (await subscriber.ReadPacketAsync())!.Type);
        await using var connection = await OpenAsync(device);

        await connection.SendAsync(MqttPackets.Connect(clientId));
        Assert.Equal(0, (await connection.ReadPacketAsync())!.ConnAckCode);
        await connection.SendAsync([0xe0, 0x00]);
        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)));

        // As on AWS IoT: no lifecycle event for such a client id (its topic would be a filter), and nothing thrown.
        Assert.Null(await subscriber.ReadPacketAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task ConnAck_Mqtt5_AdvertisesTheLimitsThatHold()
    {
        await StartAsync(o => o.MaxPayloadBytes = 64 * 1024);
        var device = await Host.CreateDeviceAsync("connack");
        var authority = Host.Services.GetRequiredService<CertificateAuthority>();
        using var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _port)
            .WithClientId("connack")
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(o => o
                .UseTls()
                .WithClientCertificates([device.Certificate])
                .WithTrustChain([authority.Root, authority.Issuing])
                .WithRevocationMode(System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck))
            .Build());

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal((uint)(64 * 1024 + MqttBrokerOptions.PacketOverheadBytes + 5), result.MaximumPacketSize);
        Assert.Equal(MqttBrokerOptions.TopicAliasMaximum, result.TopicAliasMaximum);
        Assert.Equal(MqttBrokerOptions.ReceiveMaximum, result.ReceiveMaximum);
        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, result.MaximumQoS);
        Assert.False(result.SharedSubscriptionAvailable);
    }

    [Fact]
    public async Task Connect_Second_Disconnected()
    {
        await StartAsync();
        var device = await Host.CreateDeviceAsync("twice");
        using var violations = Violations();
        await using var connection = await ConnectedAsync(device);

        await connection.SendAsync(MqttPackets.Connect("twice"));

        Assert.True(await connection.ClosedWithinAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await violations.WaitForAsync("second_connect"));
    }

    /// <summary>
    /// Connects and sends CONNECT; the CONNACK, or null when the handshake refused the certificate. .NET's
    /// server checks the certificate once OpenSSL finished the handshake, so the client learns of the
    /// refusal (a TLS alert) as the handshake ends or on its first read; either way its CONNECT is never read.
    /// </summary>
    private async Task<RawPacket?> ConnAckOrNullAsync(TestDevice device, SslProtocols protocol)
    {
        try
        {
            await using var connection = await OpenAsync(device, protocol);
            await connection.SendAsync(MqttPackets.Connect(device.ThingName));
            return await connection.ReadPacketAsync();
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return null;
        }
    }

    private async Task DetachAndDeleteAsync(TestDevice device)
    {
        var principals = Host.Services.GetRequiredService<PrincipalService>();
        var scope = new Fleetkey.Core.Naming.IotScope(FleetkeyTestHost.Region, "123456789012");
        var arn = Fleetkey.Core.Naming.Arn.For(scope, Fleetkey.Core.Naming.ResourceKind.Certificate, device.CertificateId);
        await principals.DetachAsync(scope, device.ThingName, arn, CancellationToken.None);
        var policies = Host.Services.GetRequiredService<PolicyService>();
        await policies.DetachAsync(scope, device.ThingName + "-policy", arn, CancellationToken.None);
        await Host.Services.GetRequiredService<CertificateService>().DeleteAsync(scope, device.CertificateId, forceDelete: true, CancellationToken.None);
    }

    /// <summary>Writes zeros until the broker stops taking them (reset or closed); the bytes it took.</summary>
    private static async Task<long> SendUntilRefusedAsync(RawMqttConnection connection, long max)
    {
        var chunk = new byte[64 * 1024];
        long sent = 0;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (sent < max)
            {
                await connection.Tls.WriteAsync(chunk, timeout.Token);
                sent += chunk.Length;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        return sent;
    }

    private async Task<Socket> OpenTcpAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _port);
        return socket;
    }

    private static async Task<bool> ClosedAsync(Socket socket)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            return await socket.ReceiveAsync(new byte[1], SocketFlags.None, wait.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

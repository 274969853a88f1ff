using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Testing;
using Microsoft.Extensions.Options;
using MQTTnet.Channel;
using Xunit;

namespace Fleetkey.Mqtt.Tests;

/// <summary>The pending slot's life, without sockets: what a closed-loop fleet behind one address relies on.</summary>
public sealed class ConnectionLimiterTests : IDisposable
{
    private static readonly IPEndPoint Device = new(IPAddress.Parse("192.0.2.7"), 40000);

    private readonly Meter _meter = new("Fleetkey.Mqtt.Tests.ConnectionLimiter");

    [Fact]
    public async Task Connect_ReadWhole_FreesThePendingSlotBeforeTheReadReturns()
    {
        var limiter = Limiter(maxPending: 1);
        using var lease = limiter.TryAdmit(Device);
        Assert.NotNull(lease);
        var guard = Guard(MqttPackets.Connect("closed-loop"), lease.Connected);

        var buffer = new byte[4096];
        while (!guard.ConnectReceived)
        {
            Assert.NotEqual(0, await guard.ReadAsync(buffer, 0, buffer.Length, CancellationToken.None));
        }

        // No yield in between: the broker answers CONNACK after this read, and the device's next connection may come at once.
        using var next = limiter.TryAdmit(Device);
        Assert.NotNull(next);
    }

    [Fact]
    public void Pending_AtTheLimit_RefusedUntilReleased()
    {
        var limiter = Limiter(maxPending: 1);
        var first = limiter.TryAdmit(Device);
        Assert.NotNull(first);

        Assert.Null(limiter.TryAdmit(Device));
        first.Dispose();
        using var second = limiter.TryAdmit(Device);

        Assert.NotNull(second);
        Assert.Equal(1, limiter.Open);
    }

    public void Dispose() => _meter.Dispose();

    private ConnectionLimiter Limiter(int maxPending) =>
        new(Options.Create(new MqttBrokerOptions { MaxPendingPerAddress = maxPending }), new BrokerMetrics(_meter));

    private PacketFrameGuard Guard(byte[] bytes, Action onConnect) =>
        new(new BytesChannel(bytes), new MqttConnectionState(), 16 * 1024, 128 * 1024, new BrokerMetrics(_meter), onConnect);

    /// <summary>A channel that reads the given bytes a few at a time, as TLS records arrive.</summary>
    private sealed class BytesChannel(byte[] bytes) : IMqttChannel
    {
        private int _offset;

        public X509Certificate2 ClientCertificate => null!;

        public EndPoint RemoteEndPoint => Device;

        public EndPoint LocalEndPoint => Device;

        public bool IsSecureConnection => true;

        public Task ConnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task DisconnectAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var n = Math.Min(Math.Min(count, 3), bytes.Length - _offset);
            bytes.AsSpan(_offset, n).CopyTo(buffer.AsSpan(offset));
            _offset += n;
            return Task.FromResult(n);
        }

        public void Dispose()
        {
        }
    }
}

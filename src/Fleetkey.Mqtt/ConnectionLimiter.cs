using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Counts the broker's connections, in all and by source address, and refuses one at accept when it
/// would go over <see cref="MqttBrokerOptions.MaxConnections"/>, <see cref="MqttBrokerOptions.MaxConnectionsPerAddress"/>
/// or, while it is in the TLS handshake or has not sent its CONNECT yet,
/// <see cref="MqttBrokerOptions.MaxPendingPerAddress"/>: one address cannot hold the handshakes and
/// half-open connections a fleet needs.
/// </summary>
/// <remarks>An IPv6 source counts by its /64, which one subscriber line usually holds whole.</remarks>
internal sealed class ConnectionLimiter(IOptions<MqttBrokerOptions> options, BrokerMetrics metrics)
{
    private readonly MqttBrokerOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly Dictionary<UInt128, Counts> _byAddress = [];
    private readonly ChangeSignal _released = new();
    private int _open;

    private sealed class Counts
    {
        public int Open;
        public int Pending;
    }

    /// <summary>Connections held now (for tests and diagnostics).</summary>
    internal int Open
    {
        get
        {
            lock (_lock)
            {
                return _open;
            }
        }
    }

    /// <summary>Completes when the next connection is released (for tests).</summary>
    internal Task NextRelease => _released.Next;

    /// <summary>A lease on one connection slot, pending until <see cref="Lease.Connected"/>; null when refused (counted).</summary>
    public Lease? TryAdmit(EndPoint? remote)
    {
        var key = Key(remote);
        string? refusal;
        lock (_lock)
        {
            _byAddress.TryGetValue(key, out var counts);
            refusal = _open >= _options.MaxConnections ? "connection_limit"
                : counts?.Open >= _options.MaxConnectionsPerAddress ? "address_limit"
                : counts?.Pending >= _options.MaxPendingPerAddress ? "pending_limit"
                : null;
            if (refusal is null)
            {
                if (counts is null)
                {
                    counts = new Counts();
                    _byAddress[key] = counts;
                }

                counts.Open++;
                counts.Pending++;
                _open++;
            }
        }

        if (refusal is not null)
        {
            metrics.Refused(refusal);
            return null;
        }

        return new Lease(this, key);
    }

    // Lease changes are made under the limiter's lock, so a CONNECT racing with the connection's end counts once.
    private void Connected(Lease lease)
    {
        lock (_lock)
        {
            if (lease.Pending && !lease.Released)
            {
                lease.Pending = false;
                _byAddress[lease.Key].Pending--;
            }
        }
    }

    private void Release(Lease lease)
    {
        lock (_lock)
        {
            if (lease.Released)
            {
                return;
            }

            lease.Released = true;
            var counts = _byAddress[lease.Key];
            counts.Open--;
            if (lease.Pending)
            {
                lease.Pending = false;
                counts.Pending--;
            }

            _open--;
            if (counts.Open == 0)
            {
                _byAddress.Remove(lease.Key);
            }
        }

        _released.Raise();
    }

    private static UInt128 Key(EndPoint? remote)
    {
        if (remote is not IPEndPoint { Address: var address })
        {
            return UInt128.Zero;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        // An IPv4 address has the top bit set, an IPv6 /64 prefix fits in the low 64 bits: they never meet.
        return address.AddressFamily == AddressFamily.InterNetwork
            ? ((UInt128)1 << 127) | BinaryPrimitives.ReadUInt32BigEndian(bytes[..written])
            : BinaryPrimitives.ReadUInt64BigEndian(bytes[..8]);
    }

    /// <summary>One admitted connection; dispose it when the connection ends.</summary>
    public sealed class Lease(ConnectionLimiter limiter, UInt128 key) : IDisposable
    {
        internal UInt128 Key => key;

        internal bool Pending { get; set; } = true;

        internal bool Released { get; set; }

        /// <summary>The connection sent its CONNECT: it no longer counts as pending.</summary>
        public void Connected() => limiter.Connected(this);

        public void Dispose() => limiter.Release(this);
    }
}

using System.Net;

namespace Fleetkey.Mqtt;

/// <summary>The MQTT broker's listener and the account its policies name.</summary>
public sealed class MqttBrokerOptions
{
    /// <summary>TCP port of the MQTT over TLS listener (8883 by default); 0 disables the broker.</summary>
    public int Port { get; set; } = 8883;

    /// <summary>
    /// The address the listener binds: loopback by default, as the HTTP listeners; <see cref="IPAddress.Any"/>
    /// or <see cref="IPAddress.IPv6Any"/> (IPv4 too) for every interface.
    /// </summary>
    public IPAddress BindAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The host name devices connect to, as the log and DescribeEndpoint give it (the server certificate comes from the host's <c>ServerCertificateProvider</c>).</summary>
    public string PublicHost { get; set; } = "127.0.0.1";

    /// <summary>The account id in the resource ARNs that policies are evaluated against.</summary>
    public string AccountId { get; set; } = "000000000000";

    /// <summary>
    /// How often the broker asks the store whether anything changed and re-checks connected devices
    /// (certificate status, iot:Connect), so that a revoked device is cut off within about twice this.
    /// </summary>
    public TimeSpan RevocationPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Keep a device's first connection open once just-in-time provisioning succeeded (AWS IoT closes
    /// it and the device must reconnect); off by default, as on AWS.
    /// </summary>
    public bool JitpKeepConnection { get; set; }

    /// <summary>
    /// Largest PUBLISH payload accepted (128 KiB, AWS IoT Core's limit). A packet's size is checked on
    /// its fixed header, before its body is read: a PUBLISH may be this plus
    /// <see cref="PacketOverheadBytes"/> for its topic and properties, anything larger closes the connection.
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 128 * 1024;

    /// <summary>Room in a packet beyond its payload: a topic (at most <see cref="MaxTopicBytes"/>), a packet id and MQTT 5 properties.</summary>
    public const int PacketOverheadBytes = 8 * 1024;

    /// <summary>
    /// Largest CONNECT accepted (its remaining length): a client id, a user name and password and a will
    /// message. It arrives before anything is known of the client, so it is kept small.
    /// </summary>
    public int MaxConnectBytes { get; set; } = 16 * 1024;

    /// <summary>Largest remaining length of any packet but CONNECT (what MQTT 5 clients are told as Maximum Packet Size, with its fixed header).</summary>
    public int MaxPacketBytes => MaxPayloadBytes + PacketOverheadBytes;

    /// <summary>
    /// How long a client has from the TCP accept to a complete CONNECT, TLS handshake included; a
    /// connection that takes longer is closed (a slow or silent client holds nothing for longer).
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections this node holds at most, in any state; more are closed at accept.</summary>
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>Connections from one source address at most, in any state (devices behind one NAT share an address).</summary>
    public int MaxConnectionsPerAddress { get; set; } = 1_000;

    /// <summary>Connections from one source address in the TLS handshake or not yet past CONNECT at most.</summary>
    public int MaxPendingPerAddress { get; set; } = 64;

    /// <summary>Retained messages (topics) this node keeps at most.</summary>
    public int MaxRetainedMessages { get; set; } = 10_000;

    /// <summary>Bytes of retained payloads this node keeps at most.</summary>
    public long MaxRetainedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Longest topic name or topic filter, in UTF-8 bytes (AWS IoT Core's limit).</summary>
    public const int MaxTopicBytes = 256;

    /// <summary>Topic aliases an MQTT 5 client may set (its Topic Alias Maximum, advertised in CONNACK), as AWS IoT Core.</summary>
    public const ushort TopicAliasMaximum = 8;

    /// <summary>QoS 1 publishes an MQTT 5 client may have unacknowledged (its Receive Maximum, advertised in CONNACK), as AWS IoT Core.</summary>
    public const ushort ReceiveMaximum = 100;

    /// <summary>Subscriptions one connection holds at most (AWS IoT Core's limit); more are refused in the SUBACK.</summary>
    public const int MaxSubscriptionsPerConnection = 50;

    /// <summary>Topic filters in one SUBSCRIBE at most, as AWS IoT Core; a SUBSCRIBE with more closes the connection.</summary>
    public const int MaxFiltersPerSubscribe = 8;

    /// <summary>Messages queued for one client at most; when full, the oldest is dropped.</summary>
    public const int MaxQueuedMessagesPerClient = 100;

    /// <summary>Checks what the property types cannot; returns the problems (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (MaxPayloadBytes is < 1024 or > 64 * 1024 * 1024)
        {
            problems.Add("The MQTT payload limit must be between 1024 bytes and 64 MiB.");
        }

        if (MaxConnectBytes is < 512 or > 1024 * 1024)
        {
            problems.Add("The MQTT CONNECT limit must be between 512 bytes and 1 MiB.");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            problems.Add("The MQTT connect timeout must be positive and at most 5 minutes.");
        }

        if (MaxConnections < 1 || MaxConnectionsPerAddress < 1 || MaxPendingPerAddress < 1)
        {
            problems.Add("The MQTT connection limits must be at least 1.");
        }

        if (MaxRetainedMessages < 0 || MaxRetainedBytes < 0)
        {
            problems.Add("The MQTT retained-message limits must not be negative.");
        }

        return problems;
    }
}

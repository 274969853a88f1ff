using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace Fleetkey.Mqtt;

/// <summary>
/// A device connection's channel as MQTTnet's server sees it: MQTTnet's own adapter, with the packets
/// checked against MQTT's and AWS IoT Core's rules before the server acts on them, and the CONNACK
/// telling MQTT 5 clients the limits that hold here. MQTTnet's CONNACK promises no packet limit, 65,535
/// topic aliases and QoS 2; it enforces none of the limits this broker has.
/// </summary>
/// <remarks>
/// A packet that breaks a rule ends the connection: an MQTT 5 client first gets a DISCONNECT with the
/// reason code the specification names (0x90 topic name invalid, 0x94 topic alias invalid, 0x95 packet
/// too large, 0x97 quota exceeded, 0x9B QoS not supported, 0x82 protocol error), an MQTT 3.1.1 client,
/// which has no such packet, is closed. What a CONNECT breaks is left to the broker to answer in its
/// CONNACK (<see cref="MqttConnectionState.ConnectRefusal"/>).
/// </remarks>
internal sealed class DeviceChannelAdapter(IMqttChannelAdapter inner, MqttConnectionState state, MqttBrokerOptions options, BrokerMetrics metrics) : IMqttChannelAdapter
{
    private static readonly TimeSpan DisconnectSendTimeout = TimeSpan.FromSeconds(2);

    // Topic aliases this client has set (index = alias); MQTTnet keeps their topics.
    private readonly bool[] _aliases = new bool[MqttBrokerOptions.TopicAliasMaximum + 1];
    private bool _connected;

    public MqttConnectionState State => state;

    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    private bool IsMqtt5 => inner.PacketFormatterAdapter.ProtocolVersion == MqttProtocolVersion.V500;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public void ResetStatistics() => inner.ResetStatistics();

    public void Dispose() => inner.Dispose();

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        var packet = await inner.ReceivePacketAsync(cancellationToken);
        if (packet is null)
        {
            return null!;
        }

        if (!_connected && packet is MqttConnectPacket connect)
        {
            _connected = true;
            state.ConnectRefusal = CheckConnect(connect);
            return packet;
        }

        if (Check(packet) is not { } violation)
        {
            return packet;
        }

        if (state.Violate(violation.Reason))
        {
            metrics.Violated(violation.Reason);
        }

        if (IsMqtt5)
        {
            using var timeout = new CancellationTokenSource(DisconnectSendTimeout);
            try
            {
                await inner.SendPacketAsync(new MqttDisconnectPacket { ReasonCode = violation.Code }, timeout.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The client is gone or not reading: it is closed all the same.
            }
        }

        // No packet: MQTTnet ends the connection as if the client had closed it.
        return null!;
    }

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken)
    {
        if (packet is MqttConnAckPacket connAck && IsMqtt5)
        {
            // The limits that hold here (MQTT 5 §3.2.2.3). MQTTnet's own values promise more than it is allowed to take.
            connAck.MaximumPacketSize = (uint)(options.MaxPacketBytes + 5);
            connAck.TopicAliasMaximum = MqttBrokerOptions.TopicAliasMaximum;
            connAck.ReceiveMaximum = MqttBrokerOptions.ReceiveMaximum;
            connAck.MaximumQoS = MqttQualityOfServiceLevel.AtLeastOnce;
            connAck.RetainAvailable = options.MaxRetainedMessages > 0;
            connAck.SharedSubscriptionAvailable = false;
            connAck.WildcardSubscriptionAvailable = true;
        }

        return inner.SendPacketAsync(packet, cancellationToken);
    }

    private static ConnectRefusal? CheckConnect(MqttConnectPacket connect)
    {
        if (MqttInputRules.ClientIdProblem(connect.ClientId) is not null)
        {
            return new ConnectRefusal(MqttConnectReasonCode.ClientIdentifierNotValid, "client_id");
        }

        if (!string.IsNullOrEmpty(connect.AuthenticationMethod))
        {
            return new ConnectRefusal(MqttConnectReasonCode.BadAuthenticationMethod, "auth_not_supported");
        }

        if (connect.WillFlag)
        {
            if (string.IsNullOrEmpty(connect.WillTopic) || MqttInputRules.TopicNameProblem(connect.WillTopic) is not null)
            {
                return new ConnectRefusal(MqttConnectReasonCode.TopicNameInvalid, "will_topic_invalid");
            }

            if (connect.WillQoS == MqttQualityOfServiceLevel.ExactlyOnce)
            {
                return new ConnectRefusal(MqttConnectReasonCode.QoSNotSupported, "qos_not_supported");
            }
        }

        return null;
    }

    private (MqttDisconnectReasonCode Code, string Reason)? Check(MqttPacket packet) => packet switch
    {
        MqttPublishPacket publish => CheckPublish(publish),
        MqttSubscribePacket subscribe when subscribe.TopicFilters.Count > MqttBrokerOptions.MaxFiltersPerSubscribe =>
            (MqttDisconnectReasonCode.QuotaExceeded, "too_many_filters"),

        // A SUBSCRIBE or UNSUBSCRIBE without a topic filter is a protocol violation (MQTT-3.8.3-2, MQTT-3.10.3-2); MQTTnet answers it.
        MqttSubscribePacket { TopicFilters.Count: 0 } or MqttUnsubscribePacket { TopicFilters.Count: 0 } =>
            (MqttDisconnectReasonCode.ProtocolError, "no_topic_filter"),
        MqttConnectPacket => (MqttDisconnectReasonCode.ProtocolError, "second_connect"),
        MqttAuthPacket => (MqttDisconnectReasonCode.ProtocolError, "auth_not_supported"),
        _ => null,
    };

    private (MqttDisconnectReasonCode Code, string Reason)? CheckPublish(MqttPublishPacket publish)
    {
        if (publish.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            return (MqttDisconnectReasonCode.QoSNotSupported, "qos_not_supported");
        }

        if (publish.Payload.Length > options.MaxPayloadBytes)
        {
            return (MqttDisconnectReasonCode.PacketTooLarge, "packet_too_large");
        }

        var alias = publish.TopicAlias;
        if (alias > MqttBrokerOptions.TopicAliasMaximum)
        {
            return (MqttDisconnectReasonCode.TopicAliasInvalid, "topic_alias_invalid");
        }

        var topic = publish.Topic ?? string.Empty;
        if (topic.Length == 0)
        {
            // An empty topic names the topic of an alias set before on this connection.
            return alias != 0 && _aliases[alias] ? null : (MqttDisconnectReasonCode.ProtocolError, "topic_alias_invalid");
        }

        if (MqttInputRules.TopicNameProblem(topic) is not null)
        {
            return (MqttDisconnectReasonCode.TopicNameInvalid, "topic_invalid");
        }

        if (alias != 0)
        {
            _aliases[alias] = true;
        }

        return null;
    }
}

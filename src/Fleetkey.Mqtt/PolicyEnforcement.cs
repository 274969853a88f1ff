using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// The broker's interceptors: every PUBLISH, SUBSCRIBE and delivery of a connected device is checked
/// against its policies, as AWS IoT Core checks them.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>PUBLISH: <c>iot:Publish</c> on <c>topic/&lt;topic&gt;</c>; denied, an MQTT 5 client gets PUBACK
/// 0x87 (QoS 1) and the message is dropped, an MQTT 3.1.1 client is disconnected. Nobody publishes
/// under <c>$aws/events/</c> or on a fleet provisioning answer topic; a fleet provisioning request goes
/// to <see cref="FleetProvisioningHandler"/>, never to subscribers.</item>
/// <item>SUBSCRIBE: <c>iot:Subscribe</c> on <c>topicfilter/&lt;filter&gt;</c>; denied, the SUBACK says
/// 0x87 (MQTT 5) or 0x80 failure (MQTT 3.1.1).</item>
/// <item>Delivery: <c>iot:Receive</c> on <c>topic/&lt;topic&gt;</c> of the receiving device.</item>
/// </list>
/// Without its authorization (the store failing), nothing is allowed.
/// </remarks>
internal sealed class PolicyEnforcement(
    DeviceSessions sessions,
    AuthorizationCache authorizations,
    RetainedMessageBudget retained,
    FleetProvisioningHandler fleetProvisioning,
    BrokerServer server,
    BrokerMetrics metrics,
    ILogger<MqttBroker> logger)
{
    // Topics only the broker publishes to: a device may not forge lifecycle events, whatever its policy.
    private const string ReservedEventsPrefix = "$aws/events/";

    public async Task InterceptPublishAsync(InterceptingPublishEventArgs args)
    {
        if (server.IsBroker(args.ClientId))
        {
            return;
        }

        var session = sessions.Find(args.ClientId, args.SessionItems);
        var topic = args.ApplicationMessage.Topic;
        var authorization = session is null ? null : await AuthorizationAsync(session, args.CancellationToken);
        var reserved = topic.StartsWith(ReservedEventsPrefix, StringComparison.Ordinal) || FleetProvisioningHandler.IsAnswerTopic(topic);
        if (authorization is { IsActive: true } && !reserved && authorization.MayPublish(topic))
        {
            if (args.ApplicationMessage.Retain && !retained.TryRetain(topic, args.ApplicationMessage.Payload.Length))
            {
                metrics.Violated("retained_quota");
                BrokerLog.RetainedQuota(logger, args.ClientId ?? string.Empty, topic);
                args.ProcessPublish = false;
                if (session is { IsMqtt5: true })
                {
                    args.Response.ReasonCode = MqttPubAckReasonCode.QuotaExceeded;
                }
                else
                {
                    args.CloseConnection = true;
                }

                return;
            }

            metrics.Published();
            if (FleetProvisioningHandler.Parse(topic) is { } request)
            {
                // Fleet provisioning: answered to this connection only, never forwarded (it may carry a token).
                args.ProcessPublish = false;
                fleetProvisioning.Answer(session!, request, args.ApplicationMessage.Payload);
            }

            return;
        }

        metrics.Denied(IotActions.Publish);
        BrokerLog.Denied(logger, args.ClientId ?? string.Empty, IotActions.Publish, topic);
        args.ProcessPublish = false;
        if (session is { IsMqtt5: true } && authorization is { IsActive: true })
        {
            args.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
        }
        else
        {
            args.CloseConnection = true;
        }
    }

    public async Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var session = sessions.Find(args.ClientId, args.SessionItems);
        var filter = args.TopicFilter.Topic ?? string.Empty;
        if (MqttInputRules.TopicFilterProblem(filter) is not null)
        {
            metrics.Violated("topic_filter_invalid");
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.TopicFilterInvalid;
            return;
        }

        var authorization = session is null ? null : await AuthorizationAsync(session, args.CancellationToken);
        if (authorization is { IsActive: true } && authorization.MaySubscribe(filter))
        {
            if (!session!.State.TryAddSubscription(filter, MqttBrokerOptions.MaxSubscriptionsPerConnection))
            {
                metrics.Violated("subscription_quota");
                args.ProcessSubscription = false;
                args.Response.ReasonCode = MqttSubscribeReasonCode.QuotaExceeded;
                return;
            }

            // QoS 2 is not supported (as on AWS IoT): such a subscription is granted QoS 1.
            if (args.Response.ReasonCode == MqttSubscribeReasonCode.GrantedQoS2)
            {
                args.Response.ReasonCode = MqttSubscribeReasonCode.GrantedQoS1;
            }

            return;
        }

        metrics.Denied(IotActions.Subscribe);
        BrokerLog.Denied(logger, args.ClientId ?? string.Empty, IotActions.Subscribe, filter);
        args.ProcessSubscription = false;
        args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        args.CloseConnection = authorization is not { IsActive: true };
    }

    public Task InterceptUnsubscriptionAsync(InterceptingUnsubscriptionEventArgs args)
    {
        sessions.Find(args.ClientId, args.SessionItems)?.State.RemoveSubscription(args.Topic);
        return Task.CompletedTask;
    }

    public async Task InterceptDeliveryAsync(InterceptingClientApplicationMessageEnqueueEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        var session = sessions.Find(args.ReceiverClientId);
        if (!fleetProvisioning.MayDeliver(args.ApplicationMessage, session))
        {
            args.AcceptEnqueue = false;
            return;
        }

        var authorization = session is not null ? await AuthorizationAsync(session, server.Stopping) : null;
        if (authorization is { IsActive: true } && authorization.MayReceive(topic))
        {
            return;
        }

        metrics.Denied(IotActions.Receive);
        args.AcceptEnqueue = false;
    }

    private async ValueTask<DeviceAuthorization?> AuthorizationAsync(DeviceSession session, CancellationToken cancellationToken)
    {
        try
        {
            return await authorizations.GetAsync(session.CertificateId, session.ClientId, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Fail closed: without the store, nothing is authorized.
            BrokerLog.AuthorizationFailed(logger, exception, session.ClientId);
            return null;
        }
    }
}

using System.Collections;
using System.Collections.Concurrent;
using System.Net;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Changes;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// The MQTT broker (MQTTnet.Server) for devices: MQTT 3.1.1 and 5 over TLS 1.2/1.3 with a client
/// certificate required, authenticated and authorized as AWS IoT Core does.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>TLS: the client certificate must chain to Fleetkey's CA, else the handshake fails.</item>
/// <item>CONNECT: the certificate must be known and ACTIVE, and its policies must allow
/// <c>iot:Connect</c> on <c>client/&lt;clientId&gt;</c>; else CONNACK Not authorized (MQTT 5 0x87,
/// MQTT 3.1.1 return code 5) and the connection is closed.</item>
/// <item>PUBLISH: <c>iot:Publish</c> on <c>topic/&lt;topic&gt;</c>; denied, an MQTT 5 client gets PUBACK
/// 0x87 (QoS 1) and the message is dropped, an MQTT 3.1.1 client is disconnected.</item>
/// <item>SUBSCRIBE: <c>iot:Subscribe</c> on <c>topicfilter/&lt;filter&gt;</c>; denied, the SUBACK says
/// 0x87 (MQTT 5) or 0x80 failure (MQTT 3.1.1).</item>
/// <item>Delivery: <c>iot:Receive</c> on <c>topic/&lt;topic&gt;</c> of the receiving device.</item>
/// <item>Every <see cref="MqttBrokerOptions.RevocationPollInterval"/>, if the store changed, each
/// connection is checked again and closed when its certificate is no longer ACTIVE (or deleted) or
/// its policies no longer allow it to connect.</item>
/// </list>
/// </remarks>
internal sealed partial class MqttBroker(
    IOptions<MqttBrokerOptions> options,
    DeviceTlsHandshake handshake,
    ConnectionLimiter limiter,
    AuthorizationCache authorizations,
    FleetChanges changes,
    IEnumerable<IDeviceConnectionObserver> observers,
    JustInTimeConnections justInTime,
    RetainedMessageBudget retained,
    BrokerMetrics metrics,
    TimeProvider time,
    MqttNetLogBridge mqttNetLog,
    FleetProvisioningHandler fleetProvisioning,
    ILogger<MqttBroker> logger) : IHostedService, IAsyncDisposable
{
    private const string SessionItemKey = "fleetkey.device";

    // Topics only the broker publishes to: a device may not forge lifecycle events, whatever its policy.
    private const string ReservedEventsPrefix = "$aws/events/";

    private readonly MqttBrokerOptions _options = options.Value;
    private readonly IDeviceConnectionObserver[] _observers = [.. observers];
    private readonly ConcurrentDictionary<string, DeviceSession> _sessions = new(StringComparer.Ordinal);

    // Messages the broker publishes itself (presence events) carry this sender id, which no device can
    // guess, so the publish interceptor lets them through.
    private readonly string _brokerClientId = "$fleetkey-broker-" + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();
    private MqttServer? _server;
    private Task? _watcher;
    private int _disposed;

    /// <summary>Client ids of the devices connected now.</summary>
    public IReadOnlyCollection<string> ConnectedClientIds => [.. _sessions.Keys];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var serverOptions = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(MqttBrokerOptions.MaxQueuedMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        var adapter = new TlsServerAdapter(handshake.CreateOptions(), _options, limiter, metrics, mqttNetLog, logger);
        var server = new MqttServerFactory(mqttNetLog).CreateMqttServer(serverOptions, [adapter], mqttNetLog);
        server.ValidatingConnectionAsync += ValidateConnectionAsync;
        server.ClientConnectedAsync += ClientConnectedAsync;
        server.ClientDisconnectedAsync += ClientDisconnectedAsync;
        server.InterceptingPublishAsync += InterceptPublishAsync;
        server.InterceptingSubscriptionAsync += InterceptSubscriptionAsync;
        server.InterceptingUnsubscriptionAsync += InterceptUnsubscriptionAsync;
        server.InterceptingClientEnqueueAsync += InterceptDeliveryAsync;
        await server.StartAsync();
        _server = server;
        _watcher = WatchAsync(_stopping.Token);
        LogStarted(logger, _options.BindAddress, _options.Port, _options.PublicHost);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_server is not null)
        {
            await _server.StopAsync(new MqttServerStopOptions());
        }
    }

    // The container disposes the broker twice: as itself and as the hosted service resolved from it.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _server?.Dispose();
        _stopping.Dispose();
    }

    private async Task ValidateConnectionAsync(ValidatingConnectionEventArgs args)
    {
        var certificate = args.ClientCertificate;
        var clientId = args.ClientId ?? string.Empty;
        var state = (args.ChannelAdapter as DeviceChannelAdapter)?.State ?? new MqttConnectionState();
        if (certificate is null)
        {
            Refuse(args, MqttConnectReasonCode.NotAuthorized, "no_certificate");
            return;
        }

        // What the CONNECT itself breaks (client id, will, enhanced authentication): DeviceChannelAdapter found it.
        if (state.ConnectRefusal is { } refusal)
        {
            var (printable, refusedId) = (Printable(clientId), DeviceAuthorizationService.CertificateId(certificate));
            LogRefused(logger, printable, refusedId, refusal.Reason);
            Refuse(args, refusal.Code, refusal.Reason);
            return;
        }

        var certificateId = DeviceAuthorizationService.CertificateId(certificate);
        DeviceAuthorization? authorization;
        try
        {
            authorization = await authorizations.GetAsync(certificateId, clientId, args.CancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogAuthorizationFailed(logger, exception, clientId);
            Refuse(args, MqttConnectReasonCode.ServerUnavailable, "error");
            return;
        }

        // A certificate of a registered CA, unknown or PENDING_ACTIVATION: just-in-time registration or provisioning.
        if (authorization is null or { Certificate.Status: CertificateStatus.PendingActivation })
        {
            try
            {
                var decision = await justInTime.ConnectAsync(certificate, clientId, args.CancellationToken);
                if (decision is { EventTopic: { } topic, EventPayload: { } payload })
                {
                    await PublishAsync(topic, payload);
                }

                // Whatever happened, the cached entry may be stale (a store without a change stamp keeps it a
                // poll interval): the device's next connection, after provisioning or activation, must read the store.
                authorizations.Forget(certificateId, clientId);
                if (decision is { Continue: false })
                {
                    LogRefused(logger, clientId, certificateId, decision.RefusalReason!);
                    Refuse(args, MqttConnectReasonCode.NotAuthorized, decision.RefusalReason!);
                    return;
                }

                authorization = await authorizations.GetAsync(certificateId, clientId, args.CancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogAuthorizationFailed(logger, exception, clientId);
                Refuse(args, MqttConnectReasonCode.ServerUnavailable, "error");
                return;
            }
        }

        var reason = authorization switch
        {
            null => "unknown_certificate",
            { IsActive: false } => "inactive_certificate",
            _ when !authorization.MayConnect(clientId) => "connect_denied",
            _ => null,
        };
        if (reason is not null)
        {
            LogRefused(logger, clientId, certificateId, reason);
            Refuse(args, MqttConnectReasonCode.NotAuthorized, reason);
            return;
        }

        args.ReasonCode = MqttConnectReasonCode.Success;
        args.SessionItems[SessionItemKey] = new DeviceSession(
            clientId,
            certificateId,
            authorization!.Thing?.Name,
            args.ProtocolVersion,
            Guid.NewGuid().ToString("N"),
            (args.RemoteEndPoint as IPEndPoint)?.Address.ToString(),
            time.GetUtcNow(),
            state);
    }

    private void Refuse(ValidatingConnectionEventArgs args, MqttConnectReasonCode code, string reason)
    {
        // MQTT 3.1.1 has five return codes: a reason it cannot say becomes "not authorized", as on AWS IoT.
        args.ReasonCode = args.ProtocolVersion == MqttProtocolVersion.V500
            || code is MqttConnectReasonCode.NotAuthorized or MqttConnectReasonCode.ClientIdentifierNotValid or MqttConnectReasonCode.ServerUnavailable
            ? code
            : MqttConnectReasonCode.NotAuthorized;
        metrics.Refused(reason);
    }

    // A client id is logged before it was found valid: its control characters are not.
    private static string Printable(string text) =>
        string.Create(Math.Min(text.Length, 160), text, static (span, t) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(t[i]) || char.IsSurrogate(t[i]) ? '?' : t[i];
            }
        });

    private async Task ClientConnectedAsync(ClientConnectedEventArgs args)
    {
        if (SessionFrom(args.SessionItems) is not { } session)
        {
            return;
        }

        _sessions[session.ClientId] = session;
        metrics.Connected();
        LogConnected(logger, session.ClientId, session.CertificateId);
        if (MqttInputRules.HasLifecycleEvents(session.ClientId))
        {
            await PublishAsync(PresenceEvents.ConnectedTopic(session.ClientId), PresenceEvents.Connected(session, time.GetUtcNow()));
        }

        _ = NotifyObserversAsync(new DeviceConnection(session.CertificateId, session.ClientId, session.ThingName, session.ConnectedAt));
    }

    private async Task ClientDisconnectedAsync(ClientDisconnectedEventArgs args)
    {
        if (SessionFrom(args.SessionItems) is not { } session)
        {
            return;
        }

        // A takeover's new connection may already be registered under the same client id: remove only this one.
        if (_sessions.TryRemove(new KeyValuePair<string, DeviceSession>(session.ClientId, session)))
        {
            authorizations.Forget(session.CertificateId, session.ClientId);
        }

        metrics.Disconnected();
        var (clientInitiated, reason) = args.DisconnectType switch
        {
            MqttClientDisconnectType.Clean => (true, "CLIENT_INITIATED_DISCONNECT"),
            MqttClientDisconnectType.Takeover => (false, "DUPLICATE_CLIENTID"),
            _ when session.State.Violation is not null => (false, "CLIENT_ERROR"),
            _ when args.ReasonCode == MqttDisconnectReasonCode.NotAuthorized => (false, "AUTHORIZATION_FAILURE"),
            _ => (false, "CONNECTION_LOST"),
        };
        LogDisconnected(logger, session.ClientId, reason);

        // As on AWS IoT, a client id with + or # gets no lifecycle events: their topic would be a filter.
        if (MqttInputRules.HasLifecycleEvents(session.ClientId))
        {
            await PublishAsync(PresenceEvents.DisconnectedTopic(session.ClientId), PresenceEvents.Disconnected(session, time.GetUtcNow(), clientInitiated, reason));
        }
    }

    private async Task InterceptPublishAsync(InterceptingPublishEventArgs args)
    {
        if (string.Equals(args.ClientId, _brokerClientId, StringComparison.Ordinal))
        {
            return;
        }

        var session = Find(args.ClientId, args.SessionItems);
        var topic = args.ApplicationMessage.Topic;
        var authorization = session is null ? null : await AuthorizationAsync(session, args.CancellationToken);
        var reserved = topic.StartsWith(ReservedEventsPrefix, StringComparison.Ordinal) || FleetProvisioningHandler.IsAnswerTopic(topic);
        if (authorization is { IsActive: true } && !reserved && authorization.MayPublish(topic))
        {
            if (args.ApplicationMessage.Retain && !retained.TryRetain(topic, args.ApplicationMessage.Payload.Length))
            {
                metrics.Violated("retained_quota");
                LogRetainedQuota(logger, args.ClientId ?? string.Empty, topic);
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
                var payload = new System.Buffers.ReadOnlySequence<byte>(System.Buffers.BuffersExtensions.ToArray(args.ApplicationMessage.Payload));
                _ = Task.Run(() => AnswerFleetProvisioningAsync(session!, request, payload));
            }

            return;
        }

        metrics.Denied(IotActions.Publish);
        LogDenied(logger, args.ClientId ?? string.Empty, IotActions.Publish, topic);
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

    private async Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var session = Find(args.ClientId, args.SessionItems);
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
        LogDenied(logger, args.ClientId ?? string.Empty, IotActions.Subscribe, filter);
        args.ProcessSubscription = false;
        args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        args.CloseConnection = authorization is not { IsActive: true };
    }

    private Task InterceptUnsubscriptionAsync(InterceptingUnsubscriptionEventArgs args)
    {
        Find(args.ClientId, args.SessionItems)?.State.RemoveSubscription(args.Topic);
        return Task.CompletedTask;
    }

    private async Task InterceptDeliveryAsync(InterceptingClientApplicationMessageEnqueueEventArgs args)
    {
        var topic = args.ApplicationMessage.Topic;
        _sessions.TryGetValue(args.ReceiverClientId, out var session);
        if (!fleetProvisioning.MayDeliver(args.ApplicationMessage, session))
        {
            args.AcceptEnqueue = false;
            return;
        }

        var authorization = session is not null ? await AuthorizationAsync(session, _stopping.Token) : null;
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
            LogAuthorizationFailed(logger, exception, session.ClientId);
            return null;
        }
    }

    private DeviceSession? Find(string? clientId, IDictionary? sessionItems) =>
        clientId is not null && _sessions.TryGetValue(clientId, out var session) ? session : SessionFrom(sessionItems);

    private static DeviceSession? SessionFrom(IDictionary? sessionItems) =>
        sessionItems?[SessionItemKey] as DeviceSession;

    // Live revocation: whenever the store changed (or, for a store without a change stamp, at every
    // tick), each connection is checked again; one that may no longer connect is closed.
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.RevocationPollInterval, time);
        var seen = ChangeStamp.Unknown;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    var (changed, stamp) = await changes.SinceAsync(seen, cancellationToken);
                    if (!changed)
                    {
                        continue;
                    }

                    seen = stamp;
                    foreach (var session in _sessions.Values)
                    {
                        var authorization = await authorizations.GetAsync(session.CertificateId, session.ClientId, cancellationToken);
                        if (authorization is null || !authorization.MayConnect(session.ClientId))
                        {
                            await RevokeAsync(session, authorization is null ? "deleted" : authorization.Certificate.Status);
                        }
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogWatchFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RevokeAsync(DeviceSession session, string why)
    {
        if (_server is null || !_sessions.TryGetValue(session.ClientId, out var current) || !ReferenceEquals(current, session))
        {
            return;
        }

        metrics.Revoked();
        LogRevoked(logger, session.ClientId, session.CertificateId, why);
        await _server.DisconnectClientAsync(session.ClientId, new MqttServerClientDisconnectOptions
        {
            ReasonCode = MqttDisconnectReasonCode.NotAuthorized,
            ReasonString = "Not authorized",
        });
    }

    private async Task PublishAsync(string topic, byte[] payload)
    {
        // While stopping, the devices being disconnected get no presence events.
        if (_server is null || _stopping.IsCancellationRequested)
        {
            return;
        }

        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build();
        try
        {
            await _server.InjectApplicationMessage(
                new InjectedMqttApplicationMessage(message) { SenderClientId = _brokerClientId }, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task AnswerFleetProvisioningAsync(DeviceSession session, FleetProvisioningHandler.Request request, System.Buffers.ReadOnlySequence<byte> payload)
    {
        try
        {
            var (topic, answer) = await fleetProvisioning.HandleAsync(session, request, payload, _stopping.Token);
            if (_server is null || _stopping.IsCancellationRequested)
            {
                return;
            }

            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(answer).Build();
            fleetProvisioning.Address(message, session);
            await _server.InjectApplicationMessage(
                new InjectedMqttApplicationMessage(message) { SenderClientId = _brokerClientId }, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            FleetProvisioningHandler.LogAnswerFailed(logger, exception, session.ClientId, request.Operation);
        }
    }

    private async Task NotifyObserversAsync(DeviceConnection connection)
    {
        foreach (var observer in _observers)
        {
            try
            {
                await observer.DeviceConnectedAsync(connection, _stopping.Token);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogObserverFailed(logger, exception, observer.GetType().Name, connection.ClientId);
            }
        }
    }

    [LoggerMessage(EventId = 8000, EventName = "MqttStarted", Level = LogLevel.Information, Message = "MQTT broker listening on {Address} port {Port} (TLS, client certificates required) for {PublicHost}")]
    private static partial void LogStarted(ILogger logger, IPAddress address, int port, string publicHost);

    [LoggerMessage(EventId = 8002, EventName = "MqttConnectRefused", Level = LogLevel.Information, Message = "MQTT connect of {ClientId} with certificate {CertificateId} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string clientId, string certificateId, string reason);

    [LoggerMessage(EventId = 8003, EventName = "MqttConnected", Level = LogLevel.Debug, Message = "MQTT client {ClientId} connected with certificate {CertificateId}")]
    private static partial void LogConnected(ILogger logger, string clientId, string certificateId);

    [LoggerMessage(EventId = 8004, EventName = "MqttDisconnected", Level = LogLevel.Debug, Message = "MQTT client {ClientId} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string clientId, string reason);

    [LoggerMessage(EventId = 8005, EventName = "MqttDenied", Level = LogLevel.Information, Message = "MQTT client {ClientId}: {Action} on {Resource} denied by policy")]
    private static partial void LogDenied(ILogger logger, string clientId, string action, string resource);

    [LoggerMessage(EventId = 8006, EventName = "MqttRevoked", Level = LogLevel.Information, Message = "MQTT client {ClientId} disconnected: certificate {CertificateId} is {Status} or may no longer connect")]
    private static partial void LogRevoked(ILogger logger, string clientId, string certificateId, string status);

    [LoggerMessage(EventId = 8007, EventName = "MqttAuthorizationFailed", Level = LogLevel.Error, Message = "MQTT client {ClientId}: reading its authorization failed")]
    private static partial void LogAuthorizationFailed(ILogger logger, Exception exception, string clientId);

    [LoggerMessage(EventId = 8008, EventName = "MqttWatchFailed", Level = LogLevel.Error, Message = "MQTT revocation check failed; retrying at the next tick")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8012, EventName = "MqttRetainedQuota", Level = LogLevel.Information, Message = "MQTT client {ClientId}: retained message on {Topic} refused, the node's retained-message quota is full")]
    private static partial void LogRetainedQuota(ILogger logger, string clientId, string topic);

    [LoggerMessage(EventId = 8009, EventName = "MqttObserverFailed", Level = LogLevel.Error, Message = "Connection observer {Observer} failed for {ClientId}")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string observer, string clientId);
}

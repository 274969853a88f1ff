using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// The MQTTnet server on Fleetkey's TLS listener (<see cref="TlsServerAdapter"/>, with the handshake of
/// <see cref="DeviceTlsHandshake"/>): built and started by the broker, stopped with it, and the one way
/// the broker's parts act on the server themselves — publish as the broker, close a device's connection.
/// </summary>
internal sealed class BrokerServer(
    IOptions<MqttBrokerOptions> options,
    DeviceTlsHandshake handshake,
    ConnectionLimiter limiter,
    BrokerMetrics metrics,
    MqttNetLogBridge mqttNetLog,
    ILogger<MqttBroker> logger) : IDisposable
{
    // Messages the broker publishes itself (presence events, fleet provisioning answers) carry this
    // sender id, which no device can guess, so the publish interceptor lets them through.
    private readonly string _brokerClientId = "$fleetkey-broker-" + Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stopping = new();
    private readonly RunningTasks _disconnects = new();
    private MqttServer? _server;
    private TlsServerAdapter? _listener;

    /// <summary>Cancelled when the broker stops.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether a publish comes from the broker itself.</summary>
    public bool IsBroker(string? senderClientId) => string.Equals(senderClientId, _brokerClientId, StringComparison.Ordinal);

    /// <summary>Builds the server on the TLS listener, lets <paramref name="attach"/> add its event handlers, and starts it.</summary>
    public async Task StartAsync(Action<MqttServer> attach)
    {
        var serverOptions = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithMaxPendingMessagesPerClient(MqttBrokerOptions.MaxQueuedMessagesPerClient)
            .WithPendingMessagesOverflowStrategy(MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        var listener = new TlsServerAdapter(handshake.Options, options.Value, limiter, metrics, mqttNetLog, logger);
        var server = new MqttServerFactory(mqttNetLog).CreateMqttServer(serverOptions, [listener], mqttNetLog);
        attach(server);
        _listener = listener;
        await server.StartAsync();
        _server = server;
    }

    /// <summary>
    /// Publishes nothing more, closes every connection and stops listening, then waits until every
    /// connection the listener served and every disconnect it was asked for has ended (or
    /// <paramref name="cancellationToken"/>, the host's shutdown deadline, fires).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_server is not null)
        {
            await _server.StopAsync(new MqttServerStopOptions());
        }

        var connections = _listener?.WhenConnectionsEndedAsync() ?? Task.CompletedTask;
        await Task.WhenAll(connections, _disconnects.WhenAllAsync()).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Publishes a message of the broker's own (a lifecycle or registration event); nothing while stopping.</summary>
    public Task PublishAsync(string topic, byte[] payload) =>
        PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).Build());

    /// <inheritdoc cref="PublishAsync(string, byte[])"/>
    public async Task PublishAsync(MqttApplicationMessage message)
    {
        // While stopping, the devices being disconnected get no presence events.
        if (_server is null || _stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = _brokerClientId }, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Closes the connection of <paramref name="clientId"/> as not authorized: an MQTT 5 client is sent a
    /// DISCONNECT 0x87 first, which may wait on a client that does not read (MQTTnet's communication
    /// timeout), so the caller bounds its wait; the broker's stop awaits what is left. False when the
    /// connection had ended already.
    /// </summary>
    public async Task<bool> DisconnectAsync(string clientId)
    {
        if (_server is null || _stopping.IsCancellationRequested)
        {
            return false;
        }

        Task disconnect;
        try
        {
            disconnect = _server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions
            {
                ReasonCode = MqttDisconnectReasonCode.NotAuthorized,
                ReasonString = "Not authorized",
            });
        }
        catch (InvalidOperationException)
        {
            // MQTTnet no longer knows the client id (the connection ended in the meantime) or has stopped.
            return false;
        }

        _disconnects.Add(disconnect);
        await disconnect;
        return true;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _server?.Dispose();
        _stopping.Dispose();
    }
}

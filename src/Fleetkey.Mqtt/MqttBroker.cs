using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// The MQTT broker (MQTTnet.Server) for devices: MQTT 3.1.1 and 5 over TLS 1.2/1.3 with a client
/// certificate required, authenticated and authorized as AWS IoT Core does. This class starts and stops
/// it; each of its jobs is a class of its own:
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>TLS: <see cref="BrokerServer"/> runs MQTTnet on Fleetkey's listener, whose handshake
/// (<see cref="DeviceTlsHandshake"/>) refuses a certificate that does not chain to a CA Fleetkey trusts
/// or may not connect at all.</item>
/// <item>CONNECT: <see cref="ConnectValidator"/> (the certificate ACTIVE, <c>iot:Connect</c> on
/// <c>client/&lt;clientId&gt;</c>, just-in-time registration and provisioning).</item>
/// <item>Connections: <see cref="SessionLifecycle"/> registers them, publishes their lifecycle events
/// and tells the connection observers.</item>
/// <item>PUBLISH, SUBSCRIBE and delivery: <see cref="PolicyEnforcement"/>, with fleet provisioning's
/// requests answered by <see cref="FleetProvisioningHandler"/>.</item>
/// <item>Live revocation: <see cref="RevocationMonitor"/> checks connections again whenever the fleet
/// changed and closes those that may no longer connect.</item>
/// </list>
/// Stopping awaits everything the broker started: the monitor, the side work (<see cref="BrokerTasks"/>)
/// and the server's connections.
/// </remarks>
internal sealed class MqttBroker(
    IOptions<MqttBrokerOptions> options,
    BrokerServer server,
    ConnectValidator connect,
    SessionLifecycle lifecycle,
    PolicyEnforcement policies,
    RevocationMonitor revocation,
    BrokerTasks tasks,
    ILogger<MqttBroker> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await server.StartAsync(mqtt =>
        {
            mqtt.ValidatingConnectionAsync += connect.ValidateAsync;
            mqtt.ClientConnectedAsync += lifecycle.ConnectedAsync;
            mqtt.ClientDisconnectedAsync += lifecycle.DisconnectedAsync;
            mqtt.InterceptingPublishAsync += policies.InterceptPublishAsync;
            mqtt.InterceptingSubscriptionAsync += policies.InterceptSubscriptionAsync;
            mqtt.InterceptingUnsubscriptionAsync += policies.InterceptUnsubscriptionAsync;
            mqtt.InterceptingClientEnqueueAsync += policies.InterceptDeliveryAsync;
        });
        revocation.Start();
        var o = options.Value;
        BrokerLog.Started(logger, o.BindAddress, o.Port, o.PublicHost);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // What acts through the server stops before it: the monitor, then the side work (cancelled, as the
        // connections it was for are about to close).
        await revocation.StopAsync();
        await tasks.StopAsync();
        await server.StopAsync(cancellationToken);
    }
}

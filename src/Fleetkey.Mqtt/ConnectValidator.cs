using System.Net;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Logging;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Fleetkey.Mqtt;

/// <summary>
/// The broker's CONNECT check: the certificate must be known and ACTIVE and its policies must allow
/// <c>iot:Connect</c> on <c>client/&lt;clientId&gt;</c>; a certificate of a registered CA that is unknown
/// or PENDING_ACTIVATION goes through just-in-time registration or provisioning first. Refused: CONNACK
/// Not authorized (MQTT 5 0x87, MQTT 3.1.1 return code 5). Accepted: the connection's
/// <see cref="DeviceSession"/> goes to MQTTnet's session items.
/// </summary>
internal sealed class ConnectValidator(
    AuthorizationCache authorizations,
    JustInTimeConnections justInTime,
    BrokerServer server,
    BrokerMetrics metrics,
    TimeProvider time,
    ILogger<MqttBroker> logger)
{
    public async Task ValidateAsync(ValidatingConnectionEventArgs args)
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
            BrokerLog.Refused(logger, printable, refusedId, refusal.Reason);
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
            BrokerLog.AuthorizationFailed(logger, exception, clientId);
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
                    await server.PublishAsync(topic, payload);
                }

                // Whatever happened, the cached entry may be stale (a store without a change stamp keeps it a
                // poll interval): the device's next connection, after provisioning or activation, must read the store.
                authorizations.Forget(certificateId, clientId);
                if (decision is { Continue: false })
                {
                    BrokerLog.Refused(logger, clientId, certificateId, decision.RefusalReason!);
                    Refuse(args, MqttConnectReasonCode.NotAuthorized, decision.RefusalReason!);
                    return;
                }

                authorization = await authorizations.GetAsync(certificateId, clientId, args.CancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                BrokerLog.AuthorizationFailed(logger, exception, clientId);
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
            BrokerLog.Refused(logger, clientId, certificateId, reason);
            Refuse(args, MqttConnectReasonCode.NotAuthorized, reason);
            return;
        }

        args.ReasonCode = MqttConnectReasonCode.Success;
        DeviceSessions.Attach(args.SessionItems, new DeviceSession(
            clientId,
            certificateId,
            authorization!.Thing?.Name,
            args.ProtocolVersion,
            Guid.NewGuid().ToString("N"),
            (args.RemoteEndPoint as IPEndPoint)?.Address.ToString(),
            time.GetUtcNow(),
            state));
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
}

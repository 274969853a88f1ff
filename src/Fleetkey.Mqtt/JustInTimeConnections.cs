using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fleetkey.Core.Errors;
using Fleetkey.Services.Provisioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// What the broker does with a device certificate signed by a CA registered by its owner (accepted at
/// TLS when the CA is ACTIVE: see <see cref="ClientCertificateVerifier"/>): at CONNECT it runs just-in-time registration (JITR: the certificate
/// becomes PENDING_ACTIVATION, the registration event is published, the connection is refused) or
/// provisioning (JITP: the CA's template is applied; the connection is then closed as AWS closes it,
/// or kept when <see cref="MqttBrokerOptions.JitpKeepConnection"/>).
/// </summary>
internal sealed partial class JustInTimeConnections(
    JustInTimeProvisioning provisioning,
    IOptions<MqttBrokerOptions> options,
    TimeProvider time,
    ILogger<JustInTimeConnections> logger)
{
    /// <summary>The broker's answer to a just-in-time connection: refuse (with why) or continue, and an event to publish first.</summary>
    public sealed record Decision(bool Continue, string? RefusalReason, string? EventTopic, byte[]? EventPayload);

    private readonly MqttBrokerOptions _options = options.Value;

    /// <summary>
    /// Registers or provisions a certificate that is unknown or PENDING_ACTIVATION; null when it does
    /// not qualify (then the broker refuses it as it would anyway).
    /// </summary>
    public async Task<Decision?> ConnectAsync(X509Certificate2 certificate, string clientId, CancellationToken cancellationToken)
    {
        JustInTimeResult? result;
        try
        {
            result = await provisioning.RegisterAsync(certificate, cancellationToken);
        }
        catch (ServiceException exception)
        {
            LogProvisioningFailed(logger, clientId, exception.Message);
            return new Decision(false, "jitp_failed", null, null);
        }

        if (result is null)
        {
            return null;
        }

        var certificateId = result.Certificate.CertificateId;
        if (result.Outcome == JustInTimeOutcome.PendingActivation)
        {
            LogRegistered(logger, certificateId, result.Ca.CertificateId, clientId);
            var payload = JsonSerializer.SerializeToUtf8Bytes(
                new CertificateRegisteredEvent(
                    certificateId,
                    result.Ca.CertificateId,
                    time.GetUtcNow().ToUnixTimeMilliseconds(),
                    result.Certificate.Status,
                    _options.AccountId,
                    result.Certificate.CreatedAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                JustInTimeJsonContext.Default.CertificateRegisteredEvent);
            return new Decision(false, "jitr_pending_activation", RegisteredTopic(result.Ca.CertificateId), payload);
        }

        LogProvisioned(logger, certificateId, result.Ca.CertificateId, clientId, result.Certificate.Status);
        return _options.JitpKeepConnection
            ? new Decision(true, null, null, null)
            : new Decision(false, "jitp_provisioned", null, null);
    }

    public static string RegisteredTopic(string caCertificateId) => "$aws/events/certificates/registered/" + caCertificateId;

    [LoggerMessage(EventId = 8100, EventName = "JitrCertificateRegistered", Level = LogLevel.Information, Message = "Certificate {CertificateId} of CA {CaCertificateId} is PENDING_ACTIVATION (just-in-time registration by client {ClientId})")]
    private static partial void LogRegistered(ILogger logger, string certificateId, string caCertificateId, string clientId);

    [LoggerMessage(EventId = 8101, EventName = "JitpProvisioned", Level = LogLevel.Information, Message = "Certificate {CertificateId} of CA {CaCertificateId} provisioned just in time for client {ClientId}; status {Status}")]
    private static partial void LogProvisioned(ILogger logger, string certificateId, string caCertificateId, string clientId, string status);

    [LoggerMessage(EventId = 8102, EventName = "JitpFailed", Level = LogLevel.Warning, Message = "Just-in-time provisioning for client {ClientId} failed: {Reason}")]
    private static partial void LogProvisioningFailed(ILogger logger, string clientId, string reason);
}

/// <summary>AWS IoT's payload on <c>$aws/events/certificates/registered/&lt;caCertificateId&gt;</c>.</summary>
internal sealed record CertificateRegisteredEvent(
    [property: JsonPropertyName("certificateId")] string CertificateId,
    [property: JsonPropertyName("caCertificateId")] string CaCertificateId,
    [property: JsonPropertyName("timestamp")] long Timestamp,
    [property: JsonPropertyName("certificateStatus")] string CertificateStatus,
    [property: JsonPropertyName("awsAccountId")] string AwsAccountId,
    [property: JsonPropertyName("certificateRegistrationTimestamp")] string CertificateRegistrationTimestamp);

[JsonSerializable(typeof(CertificateRegisteredEvent))]
internal sealed partial class JustInTimeJsonContext : JsonSerializerContext;

using System.Buffers;
using System.Runtime.CompilerServices;
using Fleetkey.Services.Provisioning;
using Microsoft.Extensions.Logging;
using MQTTnet;

namespace Fleetkey.Mqtt;

/// <summary>
/// AWS IoT's fleet provisioning MQTT API on the broker:
/// <c>$aws/certificates/create/&lt;fmt&gt;</c>, <c>$aws/certificates/create-from-csr/&lt;fmt&gt;</c> and
/// <c>$aws/provisioning-templates/&lt;name&gt;/provision/&lt;fmt&gt;</c> (fmt <c>json</c> or <c>cbor</c>),
/// answered on the request topic plus <c>/accepted</c> or <c>/rejected</c>.
/// </summary>
/// <remarks>
/// Requests reach the handler only once the device's policy allowed the publish; they are never
/// forwarded to subscribers (a RegisterThing request carries the ownership token). An answer (it may
/// carry a private key) goes to the requesting connection only: the broker marks the message with its
/// recipient and the delivery check drops it for every other subscriber. No device may publish on an
/// answer topic, whatever its policy (answers could be forged otherwise).
/// </remarks>
internal sealed partial class FleetProvisioningHandler(
    FleetProvisioningService fleet, BrokerServer server, BrokerTasks tasks, ILogger<FleetProvisioningHandler> logger)
{
    private const string CertificatesPrefix = "$aws/certificates/";
    private const string TemplatesPrefix = "$aws/provisioning-templates/";
    private const string Accepted = "/accepted";
    private const string Rejected = "/rejected";

    /// <summary>The requests of the API.</summary>
    public enum Operation
    {
        CreateKeysAndCertificate,
        CreateCertificateFromCsr,
        RegisterThing,
    }

    /// <summary>A request topic parsed: the operation, the template (RegisterThing) and the payload format.</summary>
    public sealed record Request(Operation Operation, string? TemplateName, string Format, string Topic);

    // The recipient (its session, by reference) of each answer the broker injected.
    private readonly ConditionalWeakTable<MqttApplicationMessage, DeviceSession> _recipients = [];

    /// <summary>The request a topic names, or null when it is not one of the API's request topics.</summary>
    public static Request? Parse(string topic)
    {
        if (topic.StartsWith(CertificatesPrefix, StringComparison.Ordinal))
        {
            var rest = topic.AsSpan(CertificatesPrefix.Length);
            var slash = rest.IndexOf('/');
            if (slash < 0 || Format(rest[(slash + 1)..]) is not { } format)
            {
                return null;
            }

            return rest[..slash] switch
            {
                "create" => new Request(Operation.CreateKeysAndCertificate, null, format, topic),
                "create-from-csr" => new Request(Operation.CreateCertificateFromCsr, null, format, topic),
                _ => null,
            };
        }

        if (topic.StartsWith(TemplatesPrefix, StringComparison.Ordinal))
        {
            var parts = topic[TemplatesPrefix.Length..].Split('/');
            if (parts.Length == 3 && parts[0].Length > 0 && parts[1] == "provision" && Format(parts[2]) is { } format)
            {
                return new Request(Operation.RegisterThing, parts[0], format, topic);
            }
        }

        return null;
    }

    private static string? Format(ReadOnlySpan<char> text) =>
        text.SequenceEqual(FleetProvisioningPayloads.Json) ? FleetProvisioningPayloads.Json
        : text.SequenceEqual(FleetProvisioningPayloads.Cbor) ? FleetProvisioningPayloads.Cbor
        : null;

    /// <summary>Whether a topic is one of the API's answer topics, where only the broker publishes.</summary>
    public static bool IsAnswerTopic(string topic)
    {
        if (topic.EndsWith(Accepted, StringComparison.Ordinal))
        {
            return Parse(topic[..^Accepted.Length]) is not null;
        }

        return topic.EndsWith(Rejected, StringComparison.Ordinal) && Parse(topic[..^Rejected.Length]) is not null;
    }

    /// <summary>
    /// Answers a request of <paramref name="session"/> in the background (a template's pre-provisioning
    /// hook may take seconds): the answer goes to that connection only (see <see cref="MayDeliver"/>).
    /// </summary>
    public void Answer(DeviceSession session, Request request, ReadOnlySequence<byte> payload)
    {
        // MQTTnet reuses the packet's buffer once the interceptor has returned: the answer works on a copy.
        var copy = new ReadOnlySequence<byte>(payload.ToArray());
        tasks.Run(cancellationToken => AnswerAsync(session, request, copy, cancellationToken));
    }

    private async Task AnswerAsync(DeviceSession session, Request request, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        try
        {
            var (topic, answer) = await HandleAsync(session, request, payload, cancellationToken);
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(answer).Build();
            _recipients.AddOrUpdate(message, session);
            await server.PublishAsync(message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogAnswerFailed(logger, exception, session.ClientId, request.Operation);
        }
    }

    /// <summary>Handles a request and returns the answer's topic and payload.</summary>
    private async Task<(string Topic, byte[] Payload)> HandleAsync(DeviceSession session, Request request, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        var claim = new ClaimConnection(session.CertificateId, session.ClientId);
        try
        {
            var fields = FleetProvisioningPayloads.Read(request.Format, payload);
            IEnumerable<(string, object?)> answer;
            switch (request.Operation)
            {
                case Operation.CreateKeysAndCertificate:
                    var created = await fleet.CreateKeysAndCertificateAsync(claim, cancellationToken);
                    answer =
                    [
                        ("certificateId", created.CertificateId), ("certificatePem", created.CertificatePem),
                        ("privateKey", created.PrivateKeyPem), ("certificateOwnershipToken", created.CertificateOwnershipToken),
                    ];
                    break;
                case Operation.CreateCertificateFromCsr:
                    var signed = await fleet.CreateCertificateFromCsrAsync(claim, fields.String("certificateSigningRequest"), cancellationToken);
                    answer =
                    [
                        ("certificateOwnershipToken", signed.CertificateOwnershipToken), ("certificateId", signed.CertificateId),
                        ("certificatePem", signed.CertificatePem),
                    ];
                    break;
                default:
                    var registered = await fleet.RegisterThingAsync(claim, request.TemplateName!, fields.String("certificateOwnershipToken"), fields.Map("parameters"), cancellationToken);
                    answer = [("deviceConfiguration", registered.DeviceConfiguration), ("thingName", registered.ThingName)];
                    break;
            }

            return (request.Topic + Accepted, FleetProvisioningPayloads.Write(request.Format, answer));
        }
        catch (FleetProvisioningException exception)
        {
            LogRejected(logger, session.ClientId, request.Operation, exception.ErrorCode, exception.Message);
            return (request.Topic + Rejected, RejectedPayload(request.Format, exception.StatusCode, exception.ErrorCode, exception.Message));
        }
        catch (FormatException exception)
        {
            LogRejected(logger, session.ClientId, request.Operation, "InvalidPayload", exception.Message);
            return (request.Topic + Rejected, RejectedPayload(request.Format, 400, "InvalidPayload", exception.Message));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogFailed(logger, exception, session.ClientId, request.Operation);
            return (request.Topic + Rejected, RejectedPayload(request.Format, 500, "InternalError", "An internal error occurred."));
        }
    }

    private static byte[] RejectedPayload(string format, int statusCode, string errorCode, string message) =>
        FleetProvisioningPayloads.Write(format, [("statusCode", statusCode), ("errorCode", errorCode), ("errorMessage", message)]);

    /// <summary>
    /// Whether a message may be delivered to <paramref name="receiver"/>: true for every message that is
    /// not an answer of this API; an answer only to the session that asked (not even to a later
    /// connection with the same client id).
    /// </summary>
    public bool MayDeliver(MqttApplicationMessage message, DeviceSession? receiver)
    {
        if (_recipients.TryGetValue(message, out var recipient))
        {
            return ReferenceEquals(recipient, receiver);
        }

        // An answer topic the broker did not address is no answer of the broker's: nobody gets it.
        return !IsAnswerTopic(message.Topic);
    }

    [LoggerMessage(EventId = 8200, EventName = "FleetProvisioningRejected", Level = LogLevel.Information, Message = "Fleet provisioning {Operation} of {ClientId} rejected: {ErrorCode} {ErrorMessage}")]
    private static partial void LogRejected(ILogger logger, string clientId, Operation operation, string errorCode, string errorMessage);

    [LoggerMessage(EventId = 8201, EventName = "FleetProvisioningFailed", Level = LogLevel.Error, Message = "Fleet provisioning {Operation} of {ClientId} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string clientId, Operation operation);

    [LoggerMessage(EventId = 8202, EventName = "FleetProvisioningAnswerFailed", Level = LogLevel.Error, Message = "Fleet provisioning {Operation}: the answer to {ClientId} could not be sent")]
    private static partial void LogAnswerFailed(ILogger logger, Exception exception, string clientId, Operation operation);
}

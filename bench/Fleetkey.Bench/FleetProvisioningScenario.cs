using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Fleetkey.Client;
using MQTTnet;
using MQTTnet.Protocol;

namespace Fleetkey.Bench;

/// <summary>
/// Fleet provisioning by claim, as a device does it over MQTT with AWS's topics: connect with the
/// shared claim certificate, CreateCertificateFromCsr (an EC P-256 key made on the device), RegisterThing
/// through a FLEET_PROVISIONING template, then reconnect with the new certificate.
/// </summary>
internal sealed class FleetProvisioningScenario(BenchContext context) : Scenario(context)
{
    private const string TemplateName = "FleetkeyBenchFleet";
    private const string ClaimPolicyName = "FleetkeyBenchClaim";
    private const string CreateTopic = "$aws/certificates/create-from-csr/json";
    private const string ProvisionTopic = "$aws/provisioning-templates/" + TemplateName + "/provision/json";

    private static readonly string ClaimPolicy = $$"""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/*"},
          {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:*:*:topic/{{CreateTopic}}*","arn:aws:iot:*:*:topic/{{ProvisionTopic}}*"]},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:*:*:topicfilter/{{CreateTopic}}/*","arn:aws:iot:*:*:topicfilter/{{ProvisionTopic}}/*"]}]}
        """;

    // The thing is named after the device's serial number; the new certificate is activated and gets
    // the same policy as the other MQTT scenarios' devices (connect as its thing, publish under bench/<thing>/).
    private static readonly string TemplateBody = """
        {"Parameters":{"SerialNumber":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
         "Resources":{
           "thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"SerialNumber"},"AttributePayload":{"provisionedBy":"fleet-provisioning"}}},
           "certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},
           "policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"FleetkeyBenchMqttDevice"}}},
         "DeviceConfiguration":{"telemetryTopic":"bench/"}}
        """;

    static FleetProvisioningScenario() =>
        System.Diagnostics.Debug.Assert(TemplateBody.Contains(MqttDevices.DevicePolicyName, StringComparison.Ordinal), "the template attaches the MQTT devices' policy");

    private readonly MqttClientFactory _factory = new();

    // The claim device, made in PrepareAsync and disposed in ReleaseAsync.
    private readonly List<MqttDevice> _owned = [];

    private MqttDevice Claim => _owned[0];

    public override string Name => "fleet-provisioning";

    public override string Unit => "devices";

    public override string Description =>
        "per device, as AWS's fleet provisioning by claim: a new MQTTnet client (MQTT 5) connects with the shared claim certificate (mutual TLS, its policy allows only " +
        "the provisioning topics), subscribes to the answers, publishes an EC P-256 CSR made by the device to $aws/certificates/create-from-csr/json (→ certificate " +
        $"and ownership token), publishes the token and SerialNumber to $aws/provisioning-templates/{TemplateName}/provision/json (→ the template makes the thing, " +
        "activates the certificate, attaches the device policy), disconnects, and connects again with the new certificate as its thing (CONNACK Success), then " +
        "disconnects: 2 TLS handshakes, 3 round trips, one certificate and one template applied";

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        Context.RequireMqtt();
        var iot = Context.Client.Iot;
        await MqttDevices.EnsurePoliciesAsync(iot, cancellationToken);
        await SeedResources.IgnoreExisting(iot.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = ClaimPolicyName, PolicyDocument = ClaimPolicy }, cancellationToken));
        await SeedResources.IgnoreExisting(iot.CreateProvisioningTemplateAsync(
            new CreateProvisioningTemplateRequest
            {
                TemplateName = TemplateName,
                TemplateBody = TemplateBody,
                Enabled = true,
                Type = "FLEET_PROVISIONING",
                ProvisioningRoleArn = "arn:aws:iam::123456789012:role/FleetkeyBenchProvisioning",
            },
            cancellationToken));

        // The claim certificate: a certificate with only the claim policy, shared by every device.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest(string.Create(CultureInfo.InvariantCulture, $"CN={Context.RunId}claim"), key, HashAlgorithmName.SHA256);
        var issued = await iot.CreateCertificateFromCsrAsync(
            new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr.CreateSigningRequestPem(), SetAsActive = true }, cancellationToken);
        if (issued is not { CertificateArn: { } arn, CertificateId: { } id, CertificatePem: { } pem })
        {
            throw new InvalidOperationException("CreateCertificateFromCsr answered without a certificate.");
        }

        await iot.AttachPolicyAsync(new AttachPolicyRequest { PolicyName = ClaimPolicyName, Target = arn }, cancellationToken);
        using var certificate = X509Certificate2.CreateFromPem(pem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        _owned.Add(new MqttDevice(Context.RunId + "claim", id, MqttDevice.Usable(withKey)));
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        var serial = Context.RunId + "f" + sequence.ToString("D7", CultureInfo.InvariantCulture);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csrPem = new CertificateRequest($"CN={serial}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        string certificateId, certificatePem;

        // 1. The claim connection: a new certificate, then the thing.
        using (var claim = _factory.CreateMqttClient())
        {
            var answers = new AnswerRouter(claim);
            await MqttDevices.ConnectAsync(claim, MqttDevices.ClientOptions(Context.Mqtt!, Claim with { ThingName = "claim-" + serial }, Context.Options.RequestTimeout), cancellationToken);
            await SubscribeAsync(claim, [CreateTopic + "/accepted", CreateTopic + "/rejected", ProvisionTopic + "/accepted", ProvisionTopic + "/rejected"], cancellationToken);

            var created = await answers.RequestAsync(CreateTopic, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["certificateSigningRequest"] = csrPem }), cancellationToken);
            certificateId = created.GetProperty("certificateId").GetString()!;
            certificatePem = created.GetProperty("certificatePem").GetString()!;
            var token = created.GetProperty("certificateOwnershipToken").GetString()!;

            var registerRequest = new Dictionary<string, object>
            {
                ["certificateOwnershipToken"] = token,
                ["parameters"] = new Dictionary<string, string> { ["SerialNumber"] = serial },
            };
            var registered = await answers.RequestAsync(ProvisionTopic, JsonSerializer.SerializeToUtf8Bytes(registerRequest), cancellationToken);
            if (registered.GetProperty("thingName").GetString() != serial)
            {
                throw new InvalidOperationException($"RegisterThing answered thing {registered.GetProperty("thingName")} for {serial}.");
            }

            await claim.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken);
        }

        // 2. The device's own connection with its new certificate.
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        using var device = new MqttDevice(serial, certificateId, MqttDevice.Usable(withKey));
        using var client = _factory.CreateMqttClient();
        await MqttDevices.ConnectAsync(client, MqttDevices.ClientOptions(Context.Mqtt!, device, Context.Options.RequestTimeout), cancellationToken);
        LoadDriver.EndTiming();
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken);
        Context.Devices.Enqueue(serial);
        return true;
    }

    public override ValueTask ReleaseAsync()
    {
        _owned.ForEach(d => d.Dispose());
        return ValueTask.CompletedTask;
    }

    private static async Task SubscribeAsync(IMqttClient client, string[] topics, CancellationToken cancellationToken)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        foreach (var topic in topics)
        {
            builder.WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        }

        var result = await client.SubscribeAsync(builder.Build(), cancellationToken);
        if (result.Items.FirstOrDefault(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2) is { } refused)
        {
            throw new InvalidOperationException($"SUBSCRIBE to {refused.TopicFilter.Topic} refused: {refused.ResultCode}.");
        }
    }

    /// <summary>One request at a time on a connection: publishes it and awaits its /accepted (or throws on /rejected).</summary>
    private sealed class AnswerRouter
    {
        private readonly IMqttClient _client;
        private TaskCompletionSource<(string Topic, byte[] Payload)>? _pending;

        public AnswerRouter(IMqttClient client)
        {
            _client = client;
            client.ApplicationMessageReceivedAsync += received =>
            {
                Volatile.Read(ref _pending)?.TrySetResult((received.ApplicationMessage.Topic, received.ApplicationMessage.Payload.ToArray()));
                return Task.CompletedTask;
            };
        }

        public async Task<JsonElement> RequestAsync(string topic, byte[] payload, CancellationToken cancellationToken)
        {
            var pending = new TaskCompletionSource<(string Topic, byte[] Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _pending, pending);
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            var published = await _client.PublishAsync(message, cancellationToken);
            if (!published.IsSuccess)
            {
                throw new InvalidOperationException($"PUBACK {published.ReasonCode} for {topic}.");
            }

            var (answerTopic, answer) = await pending.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            using var document = JsonDocument.Parse(answer);
            if (answerTopic != topic + "/accepted")
            {
                throw new InvalidOperationException($"{topic}: {answerTopic} {Encoding.UTF8.GetString(answer)}");
            }

            return document.RootElement.Clone();
        }
    }
}

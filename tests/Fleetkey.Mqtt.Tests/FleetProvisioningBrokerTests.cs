using System.Collections.Concurrent;
using System.Formats.Cbor;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using Xunit;

namespace Fleetkey.Mqtt.Tests;

/// <summary>
/// Fleet provisioning by claim over the real broker, with MQTTnet's client: AWS's topics and payloads
/// (JSON and CBOR), answers only to the requesting connection, the ownership token's rules, the
/// template checks and the pre-provisioning hook (a local HTTP server).
/// </summary>
public sealed class FleetProvisioningBrokerTests : IAsyncLifetime
{
    private const string Template = "fleet-tpl";
    private const string RoleArn = "arn:aws:iam::123456789012:role/provisioning";
    private static readonly CancellationToken None = CancellationToken.None;

    // A request topic: the broker never forwards a device's publish there, the claim policy lets its holder receive it.
    private const string MarkerTopic = "$aws/certificates/create/json";

    private const string TemplateBody = """
        {
          "Parameters": {
            "SerialNumber": {"Type": "String"},
            "Site": {"Type": "String", "Default": "none"},
            "AWS::IoT::Certificate::Id": {"Type": "String"}
          },
          "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Join": ["", ["fleet-", {"Ref": "SerialNumber"}]]}, "AttributePayload": {"site": {"Ref": "Site"}}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "fleet-device"}}
          },
          "DeviceConfiguration": {"FallbackUrl": "https://example.com/fallback", "Site": {"Ref": "Site"}}
        }
        """;

    private readonly List<IMqttClient> _clients = [];
    private FleetkeyTestHost _host = null!;
    private int _port;
    private X509Certificate2 _claim = null!;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _host = await FleetkeyTestHost.StartAsync(mqttPort: _port);
        var policies = Service<PolicyService>();
        await policies.CreateAsync("claim-policy", ClaimPolicy, null, None);
        await policies.CreateAsync("fleet-device", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":"*"}]}""", null, None);
        await CreateTemplateAsync(Template, TemplateBody);
        _claim = await ClaimCertificateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _host.DisposeAsync();
    }

    private static IotScope Scope => new(FleetkeyTestHost.Region, "123456789012");

    private T Service<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    private static readonly string ClaimPolicy = """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
          {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:*:*:topic/$aws/certificates/create/*","arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topic/$aws/provisioning-templates/*/provision/*"]},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:*:*:topicfilter/$aws/certificates/create/*","arn:aws:iot:*:*:topicfilter/$aws/certificates/create-from-csr/*","arn:aws:iot:*:*:topicfilter/$aws/provisioning-templates/*/provision/*"]}
        ]}
        """.Replace("\n", string.Empty, StringComparison.Ordinal);

    private Task<ProvisioningTemplateService.TemplateWithBody> CreateTemplateAsync(string name, string body, bool enabled = true, string? hook = null, string type = ProvisioningTemplateType.FleetProvisioning) =>
        Service<ProvisioningTemplateService>().CreateAsync(
            new ProvisioningTemplateService.NewTemplate(name, body, RoleArn, Enabled: enabled, Type: type, PreProvisioningHook: hook is null ? null : new ProvisioningTemplateService.Hook(hook, null)),
            None);

    private async Task<X509Certificate2> ClaimCertificateAsync()
    {
        var (certificate, issued) = await Service<CertificateService>().CreateKeysAndCertificateAsync(true, None);
        await Service<PolicyService>().AttachAsync(Scope, "claim-policy", Arn.For(Scope, ResourceKind.Certificate, certificate.CertificateId), None);
        return Usable(issued.CertificatePem, issued.PrivateKeyPem!);
    }

    private static X509Certificate2 Usable(string certificatePem, string keyPem)
    {
        using var withKey = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A connected client and every message it received, by topic.</summary>
    private sealed class Device(IMqttClient client)
    {
        public IMqttClient Client { get; } = client;

        public ConcurrentQueue<(string Topic, byte[] Payload)> Received { get; } = new();

        public SemaphoreSlim Signal { get; } = new(0);

        public async Task<(string Topic, byte[] Payload)> NextAsync()
        {
            Assert.True(await Signal.WaitAsync(TimeSpan.FromSeconds(20)), "no answer received");
            Assert.True(Received.TryDequeue(out var message));
            return message;
        }

        public async Task SubscribeAsync(params string[] filters)
        {
            var options = new MqttClientSubscribeOptionsBuilder();
            foreach (var filter in filters)
            {
                options.WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce);
            }

            var result = await Client.SubscribeAsync(options.Build());
            Assert.All(result.Items, i => Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, i.ResultCode));
        }

        public async Task PublishAsync(string topic, byte[] payload)
        {
            var result = await Client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(result.IsSuccess, result.ReasonCode.ToString());
        }
    }

    private async Task<Device> ConnectAsync(X509Certificate2 certificate, string clientId)
    {
        var authority = Service<CertificateAuthority>();
        var client = new MqttClientFactory().CreateMqttClient();
        _clients.Add(client);
        var device = new Device(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            device.Received.Enqueue((e.ApplicationMessage.Topic, System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
            device.Signal.Release();
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _port)
            .WithClientId(clientId)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(o => o
                .UseTls()
                .WithClientCertificates([certificate])
                .WithTrustChain([authority.Root, authority.Issuing])
                .WithRevocationMode(X509RevocationMode.NoCheck))
            .Build();
        var result = await client.ConnectAsync(options, None);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return device;
    }

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    private static JsonObject Parse(byte[] payload) => JsonNode.Parse(payload)!.AsObject();

    private static string ProvisionRequest(string token, string serial) =>
        new JsonObject { ["certificateOwnershipToken"] = token, ["parameters"] = new JsonObject { ["SerialNumber"] = serial, ["Site"] = "berlin" } }.ToJsonString();

    private static async Task<JsonObject> CreateKeysAsync(Device device)
    {
        await device.SubscribeAsync("$aws/certificates/create/json/accepted", "$aws/certificates/create/json/rejected");
        await device.PublishAsync("$aws/certificates/create/json", []);
        var (topic, payload) = await device.NextAsync();
        Assert.Equal("$aws/certificates/create/json/accepted", topic);
        return Parse(payload);
    }

    private static async Task<(string Topic, JsonObject Answer)> ProvisionAsync(Device device, string template, string request)
    {
        var prefix = $"$aws/provisioning-templates/{template}/provision/json";
        await device.SubscribeAsync(prefix + "/accepted", prefix + "/rejected");
        await device.PublishAsync(prefix, Json(request));
        var (topic, payload) = await device.NextAsync();
        return (topic, Parse(payload));
    }

    [Fact]
    public async Task CreateKeysThenRegisterThing_Json_OnlyTheRequesterGetsTheKeyAndTheNewCertificateConnects()
    {
        var requester = await ConnectAsync(_claim, "claim-a");
        var bystander = await ConnectAsync(_claim, "claim-b");
        await bystander.SubscribeAsync("$aws/certificates/create/json/accepted", "$aws/provisioning-templates/+/provision/json/accepted", "$aws/certificates/create/json");

        var created = await CreateKeysAsync(requester);

        var certificateId = created["certificateId"]!.GetValue<string>();
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", created["certificatePem"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("PRIVATE KEY-----", created["privateKey"]!.GetValue<string>(), StringComparison.Ordinal);
        var token = created["certificateOwnershipToken"]!.GetValue<string>();
        Assert.True(token.Length >= 40);
        Assert.Equal(CertificateStatus.PendingActivation, (await Service<CertificateService>().DescribeAsync(certificateId, None)).Status);

        var (topic, answer) = await ProvisionAsync(requester, Template, ProvisionRequest(token, "SN-1"));

        Assert.Equal($"$aws/provisioning-templates/{Template}/provision/json/accepted", topic);
        Assert.Equal("fleet-SN-1", answer["thingName"]!.GetValue<string>());
        Assert.Equal("berlin", answer["deviceConfiguration"]!["Site"]!.GetValue<string>());
        Assert.Equal("https://example.com/fallback", answer["deviceConfiguration"]!["FallbackUrl"]!.GetValue<string>());
        Assert.Equal(CertificateStatus.Active, (await Service<CertificateService>().DescribeAsync(certificateId, None)).Status);

        // The bystander shares the claim certificate and subscribed to the same topics: it saw nothing,
        // neither the answers nor the requests (the RegisterThing request carries the token).
        await AssertNothingReceivedAsync(bystander);

        var device = await ConnectAsync(Usable(created["certificatePem"]!.GetValue<string>(), created["privateKey"]!.GetValue<string>()), "fleet-SN-1");
        await device.PublishAsync("telemetry/fleet-SN-1", Json("{\"t\":1}"));
    }

    [Fact]
    public async Task CreateFromCsrThenRegisterThing_Cbor_AnswersInCbor()
    {
        var requester = await ConnectAsync(_claim, "claim-cbor");
        await requester.SubscribeAsync("$aws/certificates/create-from-csr/cbor/accepted", "$aws/certificates/create-from-csr/cbor/rejected");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest("CN=cbor-device", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();

        // Written by hand (RFC 8949), not by the library the broker uses: an indefinite-length map (0xBF …
        // 0xFF) with a 25-byte text key (0x78 0x19) and the CSR as a two-byte-length text string (0x79).
        var csrBytes = Encoding.UTF8.GetBytes(csr);
        byte[] request = [0xBF, 0x78, 0x19, .. Encoding.UTF8.GetBytes("certificateSigningRequest"), 0x79, (byte)(csrBytes.Length >> 8), (byte)csrBytes.Length, .. csrBytes, 0xFF];
        await requester.PublishAsync("$aws/certificates/create-from-csr/cbor", request);
        var (topic, payload) = await requester.NextAsync();

        Assert.Equal("$aws/certificates/create-from-csr/cbor/accepted", topic);
        // A definite map of three (0xA3) whose first key is the 25-byte "certificateOwnershipToken".
        Assert.Equal([0xA3, 0x78, 0x19, .. Encoding.UTF8.GetBytes("certificateOwnershipToken")], payload[..28]);
        var created = ReadCbor(payload);
        Assert.Equal(["certificateOwnershipToken", "certificateId", "certificatePem"], created.Keys);
        var prefix = $"$aws/provisioning-templates/{Template}/provision/cbor";
        await requester.SubscribeAsync(prefix + "/accepted", prefix + "/rejected");
        await requester.PublishAsync(prefix, Cbor(
            w =>
            {
                w.WriteTextString("certificateOwnershipToken");
                w.WriteTextString((string)created["certificateOwnershipToken"]!);
                w.WriteTextString("parameters");
                w.WriteStartMap(1);
                w.WriteTextString("SerialNumber");
                w.WriteTextString("SN-C");
                w.WriteEndMap();
            },
            2));
        (topic, payload) = await requester.NextAsync();

        Assert.Equal(prefix + "/accepted", topic);
        var registered = ReadCbor(payload);
        Assert.Equal("fleet-SN-C", registered["thingName"]);
        Assert.Equal("none", ((Dictionary<string, object?>)registered["deviceConfiguration"]!)["Site"]);
        using var issued = X509Certificate2.CreateFromPem((string)created["certificatePem"]!);
        // A claim certificate's holder names nothing: the CSR asked for CN=cbor-device (issue 16).
        Assert.Equal(CertificateAuthority.DeviceSubject, issued.Subject);
    }

    [Fact]
    public async Task RegisterThing_TokenReusedOrFromAnotherClient_RejectedWithInvalidCertificateOwnershipToken()
    {
        var requester = await ConnectAsync(_claim, "claim-reuse");
        var other = await ConnectAsync(_claim, "claim-other");
        var created = await CreateKeysAsync(requester);
        var token = created["certificateOwnershipToken"]!.GetValue<string>();

        // Another connection (same claim certificate, other client id) may not use the token ...
        var (stolenTopic, stolen) = await ProvisionAsync(other, Template, ProvisionRequest(token, "SN-R"));
        // ... which stays usable for its owner, once.
        var (firstTopic, _) = await ProvisionAsync(requester, Template, ProvisionRequest(token, "SN-R"));
        var (againTopic, again) = await ProvisionAsync(requester, Template, ProvisionRequest(token, "SN-R"));
        var (emptyTopic, empty) = await ProvisionAsync(requester, Template, ProvisionRequest(string.Empty, "SN-R"));

        Assert.EndsWith("/rejected", stolenTopic, StringComparison.Ordinal);
        Assert.Equal(400, stolen["statusCode"]!.GetValue<int>());
        Assert.Equal("InvalidCertificateOwnershipToken", stolen["errorCode"]!.GetValue<string>());
        Assert.EndsWith("/accepted", firstTopic, StringComparison.Ordinal);
        Assert.EndsWith("/rejected", againTopic, StringComparison.Ordinal);
        Assert.Equal("InvalidCertificateOwnershipToken", again["errorCode"]!.GetValue<string>());
        Assert.EndsWith("/rejected", emptyTopic, StringComparison.Ordinal);
        Assert.Equal("Certificate ownership token cannot be empty.", empty["errorMessage"]!.GetValue<string>());
    }

    [Fact]
    public async Task RegisterThing_TokenExpired_RejectedAndTheSweepDeletesTheCertificate()
    {
        var requester = await ConnectAsync(_claim, "claim-late");
        var created = await CreateKeysAsync(requester);
        var certificateId = created["certificateId"]!.GetValue<string>();

        _host.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        var (topic, answer) = await ProvisionAsync(requester, Template, ProvisionRequest(created["certificateOwnershipToken"]!.GetValue<string>(), "SN-L"));

        Assert.EndsWith("/rejected", topic, StringComparison.Ordinal);
        Assert.Equal("InvalidCertificateOwnershipToken", answer["errorCode"]!.GetValue<string>());
        // The background sweep may have run already on the advanced clock; sweeping again is harmless.
        await Service<FleetProvisioningService>().SweepAsync(None);
        Assert.Null(await _host.Services.GetRequiredService<IFleetStore>().ReadAsync((s, ct) => s.Certificates.GetAsync(certificateId, ct), None));
    }

    [Theory]
    [InlineData("no-such-template", 404, "ResourceNotFound")]
    [InlineData("disabled-tpl", 400, "InvalidParameters")]
    [InlineData("jitp-tpl", 404, "ResourceNotFound")]
    public async Task RegisterThing_UnknownDisabledOrJitpTemplate_Rejected(string template, int status, string errorCode)
    {
        await CreateTemplateAsync("disabled-tpl", TemplateBody, enabled: false);
        await CreateTemplateAsync("jitp-tpl", TemplateBody, type: ProvisioningTemplateType.Jitp);
        var requester = await ConnectAsync(_claim, "claim-tpl");
        var created = await CreateKeysAsync(requester);

        var (topic, answer) = await ProvisionAsync(requester, template, ProvisionRequest(created["certificateOwnershipToken"]!.GetValue<string>(), "SN-T"));

        Assert.Equal($"$aws/provisioning-templates/{template}/provision/json/rejected", topic);
        Assert.Equal(status, answer["statusCode"]!.GetValue<int>());
        Assert.Equal(errorCode, answer["errorCode"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(answer["errorMessage"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CreateProvisioningClaim_ClaimCertificateCreatesKeysThenExpiresAndIsSwept()
    {
        var claim = await Service<FleetProvisioningService>().CreateProvisioningClaimAsync(Template, None);
        var requester = await ConnectAsync(Usable(claim.CertificatePem, claim.PrivateKeyPem), "claim-temporary");

        var created = await CreateKeysAsync(requester);

        Assert.Matches("^[0-9a-f]{64}$", created["certificateId"]!.GetValue<string>());
        Assert.Equal(_host.Time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(), claim.Expiration.ToUnixTimeSeconds(), 2.0);
        var store = _host.Services.GetRequiredService<IFleetStore>();
        Assert.NotNull(await store.ReadAsync((s, ct) => s.FleetProvisioning.GetClaimAsync(claim.CertificateId, ct), None));
        _host.Time.Advance(TimeSpan.FromMinutes(6));
        await Service<FleetProvisioningService>().SweepAsync(None);
        Assert.Null(await store.ReadAsync((s, ct) => s.Certificates.GetAsync(claim.CertificateId, ct), None));
        Assert.Null(await store.ReadAsync((s, ct) => s.FleetProvisioning.GetClaimAsync(claim.CertificateId, ct), None));
        Assert.NotNull(await store.ReadAsync((s, ct) => s.Policies.GetAsync(FleetProvisioningService.ClaimPolicyName(Template), ct), None));
    }

    [Fact]
    public async Task Publish_ForgedAnswer_RefusedWhateverThePolicy()
    {
        var forger = await ConnectAsync(_claim, "claim-forger");
        var victim = await ConnectAsync(_claim, "claim-victim");
        await victim.SubscribeAsync("$aws/certificates/create/json/accepted", MarkerTopic);

        var result = await forger.Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("$aws/certificates/create/json/accepted").WithPayload("{\"privateKey\":\"mine\"}").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        await AssertNothingReceivedAsync(victim);
    }

    [Fact]
    public async Task CreateKeys_TopicNotInTheClaimPolicy_NotAuthorized()
    {
        await Service<PolicyService>().CreateAsync("csr-only", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/$aws/certificates/create-from-csr/*"}]}""", null, None);
        var (certificate, issued) = await Service<CertificateService>().CreateKeysAndCertificateAsync(true, None);
        await Service<PolicyService>().AttachAsync(Scope, "csr-only", Arn.For(Scope, ResourceKind.Certificate, certificate.CertificateId), None);
        var device = await ConnectAsync(Usable(issued.CertificatePem, issued.PrivateKeyPem!), "csr-only");

        var result = await device.Client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("$aws/certificates/create/json").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
    }

    [Theory]
    [InlineData("allow", "/accepted", null)]
    [InlineData("refuse", "/rejected", "AccessDenied")]
    [InlineData("slow", "/rejected", "AccessDenied")]
    public async Task RegisterThing_PreProvisioningHook_CalledWithAwsInputAndObeyed(string mode, string outcome, string? errorCode)
    {
        using var hook = new HookServer(mode);
        await CreateTemplateAsync("hooked", TemplateBody, hook: hook.Url);
        var requester = await ConnectAsync(_claim, "claim-hook");
        var created = await CreateKeysAsync(requester);

        var provisioning = ProvisionAsync(requester, "hooked", ProvisionRequest(created["certificateOwnershipToken"]!.GetValue<string>(), "SN-H"));
        if (mode == "slow")
        {
            // The hook has the request and keeps it: the broker's deadline runs on the host's clock.
            await hook.Called;
            _host.Time.Advance(PreProvisioningHookClient.Timeout);
        }

        var (topic, answer) = await provisioning;

        Assert.EndsWith(outcome, topic, StringComparison.Ordinal);
        var input = Assert.Single(hook.Requests);
        Assert.Equal(created["certificateId"]!.GetValue<string>(), input["certificateId"]!.GetValue<string>());
        Assert.Equal("claim-hook", input["clientId"]!.GetValue<string>());
        Assert.Equal("SN-H", input["parameters"]!["SerialNumber"]!.GetValue<string>());
        Assert.EndsWith(":provisioningtemplate/hooked", input["templateArn"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(64, input["claimCertificateId"]!.GetValue<string>().Length);
        if (errorCode is null)
        {
            // The hook's parameterOverrides win over the device's parameters.
            Assert.Equal("hooked-site", answer["deviceConfiguration"]!["Site"]!.GetValue<string>());
        }
        else
        {
            Assert.Equal(403, answer["statusCode"]!.GetValue<int>());
            Assert.Equal(errorCode, answer["errorCode"]!.GetValue<string>());
        }
    }

    /// <summary>A pre-provisioning hook on a loopback port: allows (overriding Site), refuses, or answers not before it is disposed.</summary>
    private sealed class HookServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _mode;
        private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HookServer(string mode)
        {
            _mode = mode;
            Url = $"http://127.0.0.1:{FreePort()}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = ServeAsync();
        }

        public string Url { get; }

        public ConcurrentQueue<JsonObject> Requests { get; } = new();

        /// <summary>Completes when the first request has come in.</summary>
        public Task Called => _called.Task;

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                Requests.Enqueue(JsonNode.Parse(await reader.ReadToEndAsync())!.AsObject());
                _called.TrySetResult();
                if (_mode == "slow")
                {
                    await _disposed.Task;
                }

                var body = _mode == "refuse" ? """{"allowProvisioning": false}""" : """{"allowProvisioning": true, "parameterOverrides": {"Site": "hooked-site"}}""";
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.ContentType = "application/json";
                try
                {
                    await context.Response.OutputStream.WriteAsync(bytes);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
                {
                }
            }
        }

        public void Dispose()
        {
            _listener.Close();
            _disposed.TrySetResult();
        }
    }

    /// <summary>
    /// Proves <paramref name="device"/> was sent nothing so far: once the broker's background work (its
    /// answers) has ended, the broker publishes a marker the device subscribed to, and a session's messages
    /// arrive in order, so anything sent to it before would arrive before the marker.
    /// </summary>
    private async Task AssertNothingReceivedAsync(Device device)
    {
        await Service<BrokerTasks>().WhenIdleAsync();
        await Service<BrokerServer>().PublishAsync(MarkerTopic, "marker"u8.ToArray());

        var (topic, _) = await device.NextAsync();
        Assert.Equal(MarkerTopic, topic);
        Assert.Empty(device.Received);
    }

    private static byte[] Cbor(Action<CborWriter> members, int count)
    {
        var writer = new CborWriter();
        writer.WriteStartMap(count);
        members(writer);
        writer.WriteEndMap();
        return writer.Encode();
    }

    private static Dictionary<string, object?> ReadCbor(byte[] payload)
    {
        var reader = new CborReader(payload);
        return ReadMap(reader);
    }

    private static Dictionary<string, object?> ReadMap(CborReader reader)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        var count = reader.ReadStartMap()!.Value;
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadTextString();
            result[key] = reader.PeekState() switch
            {
                CborReaderState.TextString => reader.ReadTextString(),
                CborReaderState.UnsignedInteger => reader.ReadInt32(),
                _ => ReadMap(reader),
            };
        }

        reader.ReadEndMap();
        return result;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

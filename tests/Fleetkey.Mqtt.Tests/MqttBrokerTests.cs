using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Fleetkey.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Xunit;

namespace Fleetkey.Mqtt.Tests;

/// <summary>
/// The whole application with the broker on a loopback port, driven by MQTTnet's client over mutual
/// TLS. Every test fails if anything logged an error.
/// </summary>
public sealed class MqttBrokerTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly ErrorLog _errors = new();
    private readonly RecordingObserver _observer = new();
    private readonly List<IMqttClient> _clients = [];
    private FleetkeyTestHost _host = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _host = await FleetkeyTestHost.StartAsync(
            builder =>
            {
                builder.Logging.AddProvider(_errors);
                builder.Services.AddSingleton<IDeviceConnectionObserver>(_observer);
            },
            mqttPort: _port);
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _host.DisposeAsync();
        Assert.Empty(_errors.Errors);
    }

    private static IotScope Scope => new(FleetkeyTestHost.Region, "123456789012");

    private T Service<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    private sealed record Device(string CertificateId, X509Certificate2 Certificate);

    private async Task<Device> DeviceAsync(string thingName, string policyDocument, bool active = true)
    {
        var (certificate, issued) = await Service<CertificateService>().CreateKeysAndCertificateAsync(active, None);
        var arn = Arn.For(Scope, ResourceKind.Certificate, certificate.CertificateId);
        await Service<ThingService>().CreateAsync(thingName, null, null, null, None);
        await Service<PrincipalService>().AttachAsync(Scope, thingName, arn, null, None);
        await Service<PolicyService>().CreateAsync(thingName + "-policy", policyDocument, null, None);
        await Service<PolicyService>().AttachAsync(Scope, thingName + "-policy", arn, None);
        using var withKey = X509Certificate2.CreateFromPem(issued.CertificatePem, issued.PrivateKeyPem ?? throw new InvalidOperationException("no key"));
        // SslStream wants a certificate whose key it can use on every platform: round-trip through PKCS#12.
        var usable = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return new Device(certificate.CertificateId, usable);
    }

    /// <returns>The client and the CONNACK's result code (MQTTnet reports a refusal as an exception naming it).</returns>
    private async Task<(IMqttClient Client, string Result)> ConnectAsync(Device device, string clientId, MqttProtocolVersion version = MqttProtocolVersion.V500)
    {
        var authority = Service<CertificateAuthority>();
        var client = new MqttClientFactory().CreateMqttClient();
        _clients.Add(client);
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", _port)
            .WithClientId(clientId)
            .WithProtocolVersion(version)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(o => o
                .UseTls()
                .WithClientCertificates([device.Certificate])
                .WithTrustChain([authority.Root, authority.Issuing])
                .WithRevocationMode(X509RevocationMode.NoCheck))
            .Build();
        try
        {
            var result = await client.ConnectAsync(options, None);
            return (client, result.ResultCode.ToString());
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException e)
        {
            return (client, e.Message);
        }
    }

    private static string Policy(string statements) => $$"""{"Version":"2012-10-17","Statement":[{{statements}}]}""";

    private const string ConnectAsThing =
        """{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"}""";

    [Fact]
    public async Task Connect_ActiveCertificateAllowed_AcceptedAndObserverToldTheCertificateId()
    {
        var device = await DeviceAsync("dev-1", Policy(ConnectAsThing));

        var (client, result) = await ConnectAsync(device, "dev-1");

        Assert.Equal(nameof(MqttClientConnectResultCode.Success), result);
        Assert.True(client.IsConnected);
        var connection = await _observer.NextAsync();
        Assert.Equal(device.CertificateId, connection.CertificateId);
        Assert.Equal("dev-1", connection.ClientId);
        Assert.Equal("dev-1", connection.ThingName);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V500)]
    [InlineData(MqttProtocolVersion.V311)]
    public async Task Connect_ClientIdNotTheThingsName_NotAuthorized(MqttProtocolVersion version)
    {
        var device = await DeviceAsync("dev-2", Policy(ConnectAsThing));

        var (client, result) = await ConnectAsync(device, "intruder", version);

        Assert.Contains(nameof(MqttClientConnectResultCode.NotAuthorized), result, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        Assert.Empty(_observer.Seen);
    }

    [Fact]
    public async Task Handshake_InactiveCertificate_RefusedBeforeAnyMqtt()
    {
        var device = await DeviceAsync("dev-3", Policy(ConnectAsThing), active: false);
        using var refusals = new MetricRecorder(Service<Meter>(), "fleetkey.mqtt.connect_refusals", "reason");

        var (_, result) = await ConnectAsync(device, "dev-3");

        // No CONNACK at all: the TLS handshake failed, so the CONNECT was never read.
        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.NotAuthorized), result, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.Success), result, StringComparison.Ordinal);
        Assert.Equal(["certificate_not_active"], refusals.Values);
    }

    [Fact]
    public async Task Handshake_ClientSendsNothing_ConnectionClosedByTheBroker()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _port);

        // The broker gives up on the TLS handshake after 10 s and closes: the read ends (0 bytes or a reset).
        var buffer = new byte[16];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int read;
        try
        {
            read = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
        }
        catch (SocketException)
        {
            read = 0;
        }

        Assert.Equal(0, read);
    }

    [Fact]
    public async Task Connect_SelfSignedCertificate_TlsHandshakeFailsAndNoErrorLogged()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=self-signed", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var device = new Device(DeviceAuthorizationService.CertificateId(selfSigned), X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null));

        var (_, result) = await ConnectAsync(device, "self-signed");

        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.Success), result, StringComparison.Ordinal);
        Assert.Empty(_observer.Seen);
    }

    [Fact]
    public async Task Publish_DeniedTopic_PubAckNotAuthorizedAndAllowedTopicSucceeds()
    {
        var device = await DeviceAsync("dev-4", Policy(ConnectAsThing + ","
            + """{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/things/${iot:Connection.Thing.ThingName}/*"}"""));
        var (client, _) = await ConnectAsync(device, "dev-4");

        var allowed = await client.PublishStringAsync("things/dev-4/state", "on", MqttQualityOfServiceLevel.AtLeastOnce);
        var denied = await client.PublishStringAsync("things/dev-5/state", "on", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.True(allowed.IsSuccess, allowed.ReasonCode.ToString());
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, denied.ReasonCode);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Publish_LifecycleEventTopic_RefusedWhateverThePolicy()
    {
        var device = await DeviceAsync("dev-8", Policy("""{"Effect":"Allow","Action":"iot:*","Resource":"*"}"""));
        var (client, _) = await ConnectAsync(device, "dev-8");

        var forged = await client.PublishStringAsync("$aws/events/presence/connected/someone", "{}", MqttQualityOfServiceLevel.AtLeastOnce);
        var ordinary = await client.PublishStringAsync("anything/else", "{}", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.True(ordinary.IsSuccess, ordinary.ReasonCode.ToString());
    }

    [Fact]
    public async Task Subscribe_DeniedFilter_SubAckNotAuthorized()
    {
        var device = await DeviceAsync("dev-6", Policy(ConnectAsThing + ","
            + """{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/mine/*"}"""));
        var (client, _) = await ConnectAsync(device, "dev-6");

        var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter("mine/#", MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter("theirs/#", MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());

        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, result.Items.Single(i => i.TopicFilter.Topic == "mine/#").ResultCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, result.Items.Single(i => i.TopicFilter.Topic == "theirs/#").ResultCode);
    }

    [Fact]
    public async Task Revocation_CertificateSetInactive_DisconnectedAtTheNextPoll()
    {
        var device = await DeviceAsync("dev-7", Policy(ConnectAsThing));
        var (client, _) = await ConnectAsync(device, "dev-7");
        var disconnected = DisconnectedSignal(client);
        await RegisteredAsync("dev-7");

        await Service<CertificateService>().UpdateStatusAsync(device.CertificateId, CertificateStatus.Inactive, None);
        await PollUntilAsync(disconnected.Task);

        var e = await disconnected.Task;
        Assert.Equal(MqttClientDisconnectReason.NotAuthorized, e.Reason);
    }

    [Fact]
    public async Task Revocation_ConnectionRegisteredAfterAPollSawTheChange_DisconnectedAtTheNextPoll()
    {
        var device = await DeviceAsync("dev-race", Policy(ConnectAsThing));
        var (client, _) = await ConnectAsync(device, "dev-race");
        var disconnected = DisconnectedSignal(client);
        var sessions = Service<DeviceSessions>();
        await RegisteredAsync("dev-race");
        var session = sessions.All.Single(s => s.ClientId == "dev-race");

        // MQTTnet sends the CONNACK before it reports the connection: a change committed in between is
        // seen by a poll that does not see the connection yet. Played here by taking the session out for one poll.
        sessions.Remove(session);
        await Service<CertificateService>().UpdateStatusAsync(device.CertificateId, CertificateStatus.Inactive, None);
        await PollAsync();
        Assert.False(disconnected.Task.IsCompleted);
        sessions.Add(session);
        await PollUntilAsync(disconnected.Task);

        Assert.Equal(MqttClientDisconnectReason.NotAuthorized, (await disconnected.Task).Reason);
    }

    [Fact]
    public async Task Reconnect_StoreUnchanged_AuthorizationFromTheCacheWithoutAStoreRead()
    {
        var device = await DeviceAsync("dev-8", Policy(ConnectAsThing));
        var (first, _) = await ConnectAsync(device, "dev-8");
        await DisconnectAndWaitAsync(first, "dev-8");
        using var lookups = new MetricRecorder(Service<Meter>(), "fleetkey.mqtt.authorization_lookups", "result");

        var (second, result) = await ConnectAsync(device, "dev-8");

        Assert.Equal(nameof(MqttClientConnectResultCode.Success), result);
        Assert.True(second.IsConnected);
        Assert.Equal(["hit"], lookups.Values);
    }

    [Fact]
    public async Task Reconnect_CertificateSetInactiveWhileDisconnected_HandshakeRefused()
    {
        var device = await DeviceAsync("dev-9", Policy(ConnectAsThing));
        var (first, _) = await ConnectAsync(device, "dev-9");
        await DisconnectAndWaitAsync(first, "dev-9");
        await Service<CertificateService>().UpdateStatusAsync(device.CertificateId, CertificateStatus.Inactive, None);
        using var lookups = new MetricRecorder(Service<Meter>(), "fleetkey.mqtt.authorization_lookups", "result");
        using var refusals = new MetricRecorder(Service<Meter>(), "fleetkey.mqtt.connect_refusals", "reason");

        var (_, result) = await ConnectAsync(device, "dev-9");

        // The status remembered from the first connection is stale (the store changed): read again, refused in TLS.
        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.Success), result, StringComparison.Ordinal);
        Assert.Equal(["certificate_not_active"], refusals.Values);
        Assert.Empty(lookups.Values);
    }

    [Fact]
    public async Task TlsVerdict_RememberedThenCertificateExpires_Refused()
    {
        var device = await DeviceAsync("dev-exp", Policy(ConnectAsThing));
        var (client, result) = await ConnectAsync(device, "dev-exp");
        Assert.Equal(nameof(MqttClientConnectResultCode.Success), result);
        await DisconnectAndWaitAsync(client, "dev-exp");
        Assert.True(Service<ClientCertificateVerifier>().Count > 0);

        // Its own clock: advancing the host's by a year would run the broker's poll timers for every interval in it.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(_host.Time.GetUtcNow());
        var verifier = new ClientCertificateVerifier(Service<CertificateAuthority>(), Service<RegisteredCaTrust>(), time);
        Assert.True(verifier.IsTrusted(device.Certificate));
        Assert.Equal(1, verifier.Count);

        time.Advance(device.Certificate.NotAfter.ToUniversalTime() - time.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));

        Assert.False(verifier.IsTrusted(device.Certificate));
        Assert.Equal(0, verifier.Count);
    }

    [Fact]
    public async Task TlsVerdict_RememberedForRegisteredCa_CaSetInactive_HandshakeRefused()
    {
        var cas = Service<CaCertificateService>();
        using var caKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Owner CA", caKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var now = _host.Time.GetUtcNow();
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        X509Certificate2 Issue(string subject, System.Security.Cryptography.ECDsa key)
        {
            var request = new CertificateRequest(subject, key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            return request.Create(ca, now.AddDays(-1), now.AddYears(1), System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        }

        using var verificationKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var verification = Issue("CN=" + await cas.GetRegistrationCodeAsync(Scope, None), verificationKey);
        var registered = await cas.RegisterAsync(
            Scope, new CaCertificateService.NewCaCertificate(ca.ExportCertificatePem(), verification.ExportCertificatePem(), true, true, null, null, null), None);
        using var deviceKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var issued = Issue("CN=owner-device", deviceKey);
        using var withKey = issued.CopyWithPrivateKey(deviceKey);
        var device = new Device(DeviceAuthorizationService.CertificateId(issued), X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));

        // Accepted at TLS (the CA is ACTIVE and registers its devices), refused at CONNECT: just-in-time
        // registration made the certificate PENDING_ACTIVATION.
        var (_, accepted) = await ConnectAsync(device, "owner-device");
        Assert.Contains(nameof(MqttClientConnectResultCode.NotAuthorized), accepted, StringComparison.Ordinal);
        var verifier = Service<ClientCertificateVerifier>();
        Assert.True(verifier.IsTrusted(device.Certificate));

        await cas.UpdateAsync(registered.CertificateId, new CaCertificateService.CaCertificateUpdate(CertificateStatus.Inactive, null, null, false), None);

        Assert.False(verifier.IsTrusted(device.Certificate));
        var (_, refused) = await ConnectAsync(device, "owner-device");
        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.NotAuthorized), refused, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(MqttClientConnectResultCode.Success), refused, StringComparison.Ordinal);
    }

    /// <summary>Disconnects and waits until the broker has seen it (and so handed the device's cache entry to <see cref="AuthorizationCache.Forget"/>).</summary>
    private async Task DisconnectAndWaitAsync(IMqttClient client, string clientId)
    {
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), None);
        var sessions = Service<DeviceSessions>();
        await Signals.WaitUntilAsync(() => sessions.NextChange, () => !sessions.ClientIds.Contains(clientId));
    }

    /// <summary>Waits until the broker has registered the connection (MQTTnet reports it after the CONNACK).</summary>
    private Task RegisteredAsync(string clientId)
    {
        var sessions = Service<DeviceSessions>();
        return Signals.WaitUntilAsync(() => sessions.NextChange, () => sessions.ClientIds.Contains(clientId));
    }

    private static TaskCompletionSource<MqttClientDisconnectedEventArgs> DisconnectedSignal(IMqttClient client)
    {
        var disconnected = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += e =>
        {
            disconnected.TrySetResult(e);
            return Task.CompletedTask;
        };
        return disconnected;
    }

    /// <summary>Moves the host's (fake) clock one revocation poll on and waits until the poll it started has run.</summary>
    private async Task PollAsync()
    {
        var passed = Service<RevocationMonitor>().NextPass;
        _host.Time.Advance(Service<IOptions<MqttBrokerOptions>>().Value.RevocationPollInterval);
        await passed;
    }

    /// <summary>
    /// Polls until <paramref name="done"/> completes: one poll should do, a few are allowed (the client
    /// learns of its disconnect after the poll that closed it); then the real-time bound only ends a broken run.
    /// </summary>
    private async Task PollUntilAsync(Task done)
    {
        for (var polls = 0; polls < 5 && !done.IsCompleted; polls++)
        {
            await PollAsync();
        }

        await done.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class RecordingObserver : IDeviceConnectionObserver
    {
        private readonly Channel _channel = new();

        public ConcurrentQueue<DeviceConnection> Seen { get; } = new();

        public ValueTask DeviceConnectedAsync(DeviceConnection connection, CancellationToken cancellationToken)
        {
            Seen.Enqueue(connection);
            _channel.Signal.Release();
            return ValueTask.CompletedTask;
        }

        public async Task<DeviceConnection> NextAsync()
        {
            Assert.True(await _channel.Signal.WaitAsync(TimeSpan.FromSeconds(5)), "no connection observed");
            Assert.True(Seen.TryDequeue(out var connection));
            return connection;
        }

        private sealed class Channel
        {
            public SemaphoreSlim Signal { get; } = new(0);
        }
    }
}

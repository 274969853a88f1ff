using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Client;
using MQTTnet;
using MQTTnet.Formatter;

namespace Fleetkey.Bench;

/// <summary>
/// The broker a run connects to: its host and port, and the CA chain its server certificate chains
/// to (the server's <c>/ca.pem</c>), which is also what device certificates chain to.
/// </summary>
internal sealed class MqttTarget : IDisposable
{
    private MqttTarget(string host, int port, X509Certificate2Collection trustChain)
    {
        Host = host;
        Port = port;
        TrustChain = trustChain;
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>Fleetkey's issuing and root CA certificates, as <c>/ca.pem</c> lists them.</summary>
    public X509Certificate2Collection TrustChain { get; }

    /// <summary>The broker of the server at <paramref name="endpoint"/>: listening on its host at <paramref name="port"/>, trusted by its <c>/ca.pem</c>.</summary>
    public static async Task<MqttTarget> OfServerAsync(Uri endpoint, int port, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await http.GetStringAsync(new Uri(endpoint, "/ca.pem"), cancellationToken));
        return chain.Count > 0
            ? new MqttTarget(endpoint.Host, port, chain)
            : throw new InvalidOperationException($"{endpoint}ca.pem holds no certificate.");
    }

    public void Dispose()
    {
        foreach (var certificate in TrustChain)
        {
            certificate.Dispose();
        }
    }
}

/// <summary>A device that can connect: its thing name (also its MQTT client id) and its certificate with the private key.</summary>
internal sealed record MqttDevice(string ThingName, string CertificateId, X509Certificate2 Certificate) : IDisposable
{
    /// <summary>A device from the PEM a provisioning answer holds (certificate and private key).</summary>
    public static MqttDevice FromPem(string thingName, string certificateId, string certificatePem, string privateKeyPem)
    {
        using var withKey = X509Certificate2.CreateFromPem(certificatePem, privateKeyPem);
        return new MqttDevice(thingName, certificateId, Usable(withKey));
    }

    /// <summary>
    /// A certificate whose key SslStream can use on every platform (an ephemeral key is refused on
    /// some): round-tripped through PKCS#12.
    /// </summary>
    public static X509Certificate2 Usable(X509Certificate2 withKey) =>
        X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

    public void Dispose() => Certificate.Dispose();
}

/// <summary>
/// Devices for the MQTT scenarios: provisioned through the control plane as a real fleet would be
/// (an EC P-256 key made on the device, CreateCertificateFromCsr, a thing, the certificate attached
/// to it and to a policy), and MQTTnet client options that connect as one of them over mutual TLS.
/// </summary>
internal static class MqttDevices
{
    /// <summary>Topics the bench's devices publish on: <c>bench/&lt;thing name&gt;/telemetry</c>.</summary>
    public const string TopicPrefix = "bench/";

    /// <summary>A device may connect as its own thing, publish and receive under <c>bench/&lt;its name&gt;/</c>, and subscribe there.</summary>
    public const string DevicePolicyName = "FleetkeyBenchMqttDevice";

    /// <summary>A collector may connect as its own thing, subscribe to and receive every device's topics under <c>bench/</c>.</summary>
    public const string CollectorPolicyName = "FleetkeyBenchMqttCollector";

    private const string DevicePolicy = """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
          {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:*:*:topic/bench/${iot:Connection.Thing.ThingName}/*"},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/bench/${iot:Connection.Thing.ThingName}/*"}]}
        """;

    private const string CollectorPolicy = """
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
          {"Effect":"Allow","Action":"iot:Receive","Resource":"arn:aws:iot:*:*:topic/bench/*"},
          {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:*:*:topicfilter/bench/*"}]}
        """;

    public static string TelemetryTopic(string thingName) => TopicPrefix + thingName + "/telemetry";

    /// <summary>Creates the device and collector policies unless an earlier run did.</summary>
    public static async Task EnsurePoliciesAsync(IotClient iot, CancellationToken cancellationToken)
    {
        await SeedResources.IgnoreExisting(iot.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = DevicePolicyName, PolicyDocument = DevicePolicy }, cancellationToken));
        await SeedResources.IgnoreExisting(iot.CreatePolicyAsync(new CreatePolicyRequest { PolicyName = CollectorPolicyName, PolicyDocument = CollectorPolicy }, cancellationToken));
    }

    /// <summary>
    /// Provisions one device (4 requests): an EC P-256 key and CSR made here, CreateCertificateFromCsr
    /// (setAsActive), CreateThing, AttachThingPrincipal, AttachPolicy <paramref name="policyName"/>.
    /// </summary>
    public static async Task<MqttDevice> ProvisionAsync(IotClient iot, string thingName, string policyName, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest(string.Create(CultureInfo.InvariantCulture, $"CN={thingName}"), key, HashAlgorithmName.SHA256);
        var issued = await iot.CreateCertificateFromCsrAsync(
            new CreateCertificateFromCsrRequest { CertificateSigningRequest = csr.CreateSigningRequestPem(), SetAsActive = true }, cancellationToken);
        if (issued is not { CertificateArn: { } arn, CertificateId: { } id, CertificatePem: { } pem })
        {
            throw new InvalidOperationException("CreateCertificateFromCsr answered without a certificate.");
        }

        await iot.CreateThingAsync(new CreateThingRequest { ThingName = thingName }, cancellationToken);
        await iot.AttachThingPrincipalAsync(new AttachThingPrincipalRequest { ThingName = thingName, Principal = arn }, cancellationToken);
        await iot.AttachPolicyAsync(new AttachPolicyRequest { PolicyName = policyName, Target = arn }, cancellationToken);
        using var certificate = X509Certificate2.CreateFromPem(pem);
        using var withKey = certificate.CopyWithPrivateKey(key);
        return new MqttDevice(thingName, id, MqttDevice.Usable(withKey));
    }

    /// <summary>Provisions <paramref name="names"/> with <paramref name="concurrency"/> in flight, untimed, with a progress line.</summary>
    public static async Task<MqttDevice[]> ProvisionManyAsync(
        IotClient iot, IReadOnlyList<string> names, string policyName, int concurrency, int? serverPid, BenchProgress.Phase phase, CancellationToken cancellationToken)
    {
        var devices = new MqttDevice[names.Count];
        var next = -1L;
        var result = await LoadDriver.RunAsync(
            new LoadPlan(concurrency, null, names.Count),
            async (sequence, ct) =>
            {
                devices[sequence] = await ProvisionAsync(iot, names[(int)sequence], policyName, ct);
                return true;
            },
            () => Interlocked.Increment(ref next),
            serverPid,
            phase,
            cancellationToken);
        if (result.Failed > 0 || result.Succeeded < names.Count)
        {
            foreach (var device in devices)
            {
                device?.Dispose();
            }

            throw new InvalidOperationException($"Provisioning {names.Count:N0} MQTT devices failed ({result.Failed} errors): {string.Join("; ", result.Errors)}");
        }

        return devices;
    }

    /// <summary>
    /// Options that connect as <paramref name="device"/> (client id = its thing name) over TLS 1.2/1.3
    /// with its certificate, trusting the server's certificate only if it chains to the target's CA
    /// chain (no revocation check: Fleetkey's CA publishes none). MQTT 5 unless told otherwise.
    /// </summary>
    public static MqttClientOptions ClientOptions(
        MqttTarget target, MqttDevice device, TimeSpan timeout, MqttProtocolVersion version = MqttProtocolVersion.V500, bool cleanStart = true) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(target.Host, target.Port)
            .WithClientId(device.ThingName)
            .WithProtocolVersion(version)
            .WithCleanStart(cleanStart)
            .WithTimeout(timeout)
            .WithTlsOptions(tls => tls
                .UseTls()
                .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                .WithClientCertificates([device.Certificate])
                .WithTrustChain(target.TrustChain)
                .WithRevocationMode(X509RevocationMode.NoCheck))
            .Build();

    /// <summary>Connects <paramref name="client"/>; a refused CONNECT (any CONNACK but Success) throws, naming the reason code.</summary>
    public static async Task ConnectAsync(IMqttClient client, MqttClientOptions options, CancellationToken cancellationToken)
    {
        var result = await client.ConnectAsync(options, cancellationToken);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"CONNECT of {options.ClientId} refused: {result.ResultCode} {result.ReasonString}");
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MQTTnet;
using MQTTnet.Protocol;

namespace Fleetkey.Bench;

/// <summary>
/// Connect storms through the broker: each operation a new MQTTnet client connecting as one of the
/// run's EC P-256 devices over mutual TLS, authenticated (certificate known and ACTIVE) and authorized
/// (iot:Connect) by the real broker, then disconnecting.
/// </summary>
internal sealed class MqttConnectScenario(BenchContext context) : Scenario(context)
{
    private readonly ConcurrentQueue<MqttDevice> _idle = new();
    private readonly MqttClientFactory _factory = new();
    private DeviceTlsAdapterFactory? _tls;
    private MqttDevice[] _devices = [];

    public override string Name => "mqtt-connect";

    public override string Unit => "connects";

    public override string Description =>
        $"a new MQTTnet client (MQTT 5, clean start) over a device-like TLS connection (the device's certificate context made once, the server's chain and name verified every time, no session resumption) connects as one of {Context.Options.MqttDevices:N0} devices (EC P-256 keys, certificates from CreateCertificateFromCsr, " +
        $"each attached to its thing and to a policy allowing iot:Connect as that thing): TCP + TLS handshake with the device certificate + CONNECT → CONNACK Success, " +
        $"which the broker sends after looking the certificate up (ACTIVE) and evaluating iot:Connect; then DISCONNECT. Latency is to the CONNACK; the DISCONNECT " +
        $"(sent and the socket closed) is not in the latency but is in the loop, so the rate counts whole connect-disconnect cycles. A device is never used by two " +
        $"connections at once";

    public override string? Ceiling => TlsHandshakeCeiling.Name;

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        Context.RequireMqtt();
        await MqttDevices.EnsurePoliciesAsync(Context.Client.Iot, cancellationToken);
        var count = Context.Options.MqttDevices;
        var names = Enumerable.Range(0, count).Select(i => Context.RunId + "c" + i.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
        var phase = progress.Begin($"{Name}: provisioning {count:N0} devices (4 requests each)", count);
        _devices = await MqttDevices.ProvisionManyAsync(Context.Client.Iot, names, MqttDevices.DevicePolicyName, Context.Options.Concurrency, Context.ServerPid, phase, cancellationToken);
        phase.Complete($"{count:N0} devices");
        foreach (var device in _devices)
        {
            _idle.Enqueue(device);
        }
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        if (!_idle.TryDequeue(out var device))
        {
            throw new InvalidOperationException("No idle device: --mqtt-devices must be at least --concurrency.");
        }

        try
        {
            using var client = _factory.CreateMqttClient(_tls ??= new DeviceTlsAdapterFactory(Context.Mqtt!));
            await MqttDevices.ConnectAsync(client, MqttDevices.ClientOptions(Context.Mqtt!, device, Context.Options.RequestTimeout), cancellationToken);
            LoadDriver.EndTiming();
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken);
            return true;
        }
        finally
        {
            _idle.Enqueue(device);
        }
    }

    public override ValueTask ReleaseAsync()
    {
        foreach (var device in _devices)
        {
            device.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Publish throughput through policy checks: one connected device per request in flight, each
/// publishing QoS 1 on its own topic and awaiting the PUBACK the broker sends once iot:Publish is
/// allowed; optionally a collector device receiving everything (iot:Receive checked per delivery).
/// </summary>
internal sealed class MqttPublishScenario(BenchContext context) : Scenario(context)
{
    private const int PayloadBytes = 64;
    private const byte WarmupMark = 0;
    private const byte MeasurementMark = 1;
    private const string CollectorFilter = MqttDevices.TopicPrefix + "+/telemetry";

    private readonly ConcurrentQueue<Publisher> _idle = new();
    private readonly List<IMqttClient> _clients = [];
    private readonly List<MqttDevice> _devices = [];
    private readonly long[] _published = new long[2];
    private readonly long[] _delivered = new long[2];
    private byte _mark = WarmupMark;

    private sealed record Publisher(IMqttClient Client, string Topic);

    public override string Name => "mqtt-publish";

    public override string Unit => "messages";

    private bool WithCollector => Context.Options.MqttCollector;

    public override string Description =>
        $"{Context.Options.Concurrency} devices connected before the measurement (MQTT 5, one per request in flight), each publishing {PayloadBytes}-byte QoS 1 messages " +
        $"on bench/<its thing>/telemetry and awaiting the PUBACK, which the broker sends after evaluating iot:Publish on that topic against the device's policy " +
        $"(policy variable ${{iot:Connection.Thing.ThingName}}); latency is PUBLISH → PUBACK" +
        (WithCollector
            ? $"; a collector device subscribed to {CollectorFilter} at QoS 0 receives the messages after the broker's iot:Receive check of each delivery (delivered/s below)"
            : "; no subscriber (--no-mqtt-collector): the broker drops each message after the PUBACK");

    public override async Task PrepareAsync(BenchProgress progress, CancellationToken cancellationToken)
    {
        Context.RequireMqtt();
        await MqttDevices.EnsurePoliciesAsync(Context.Client.Iot, cancellationToken);
        var count = Context.Options.Concurrency;
        var names = Enumerable.Range(0, count).Select(i => Context.RunId + "p" + i.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
        var phase = progress.Begin($"{Name}: provisioning {count:N0} devices{(WithCollector ? " and a collector" : string.Empty)}", count);
        _devices.AddRange(await MqttDevices.ProvisionManyAsync(Context.Client.Iot, names, MqttDevices.DevicePolicyName, Context.Options.Concurrency, Context.ServerPid, phase, cancellationToken));
        if (WithCollector)
        {
            var collector = await MqttDevices.ProvisionAsync(Context.Client.Iot, Context.RunId + "collector", MqttDevices.CollectorPolicyName, cancellationToken);
            _devices.Add(collector);
            var client = await ConnectAsync(collector, cancellationToken);
            client.ApplicationMessageReceivedAsync += received =>
            {
                var payload = received.ApplicationMessage.Payload;
                if (payload.Length == PayloadBytes)
                {
                    Interlocked.Increment(ref _delivered[payload.FirstSpan[0] == MeasurementMark ? 1 : 0]);
                }

                return Task.CompletedTask;
            };
            var subscribed = await client.SubscribeAsync(
                new MqttClientSubscribeOptionsBuilder().WithTopicFilter(CollectorFilter, MqttQualityOfServiceLevel.AtMostOnce).Build(), cancellationToken);
            if (subscribed.Items.Single().ResultCode != MqttClientSubscribeResultCode.GrantedQoS0)
            {
                throw new InvalidOperationException($"The collector's SUBSCRIBE to {CollectorFilter} was answered {subscribed.Items.Single().ResultCode}.");
            }
        }

        foreach (var device in _devices.Take(count))
        {
            _idle.Enqueue(new Publisher(await ConnectAsync(device, cancellationToken), MqttDevices.TelemetryTopic(device.ThingName)));
        }

        phase.Complete($"{count:N0} devices connected{(WithCollector ? ", collector subscribed" : string.Empty)}");
    }

    public override void MeasurementStarting()
    {
        Volatile.Write(ref _mark, MeasurementMark);
    }

    public override async ValueTask<bool> RunOnceAsync(long sequence, CancellationToken cancellationToken)
    {
        if (!_idle.TryDequeue(out var publisher))
        {
            throw new InvalidOperationException("No idle publisher.");
        }

        try
        {
            var mark = Volatile.Read(ref _mark);
            var payload = new byte[PayloadBytes];
            payload[0] = mark;
            BitConverter.TryWriteBytes(payload.AsSpan(1), sequence);
            var message = new MqttApplicationMessageBuilder()
                .WithTopic(publisher.Topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .Build();
            var result = await publisher.Client.PublishAsync(message, cancellationToken);
            if (!result.IsSuccess)
            {
                throw new InvalidOperationException($"PUBACK {result.ReasonCode} {result.ReasonString} for {publisher.Topic}.");
            }

            Interlocked.Increment(ref _published[mark]);
            return true;
        }
        finally
        {
            _idle.Enqueue(publisher);
        }
    }

    /// <summary>What the collector received of the measurement's messages, once deliveries stop coming (at most 5 s after).</summary>
    public override async Task<IReadOnlyList<string>> NotesAsync(LoadResult result, CancellationToken cancellationToken)
    {
        if (!WithCollector)
        {
            return [];
        }

        var published = Interlocked.Read(ref _published[1]);
        var waited = Stopwatch.StartNew();
        var last = -1L;
        var lastChange = Stopwatch.StartNew();
        while (Interlocked.Read(ref _delivered[1]) < published && waited.Elapsed < TimeSpan.FromSeconds(5) && lastChange.Elapsed < TimeSpan.FromSeconds(1))
        {
            await Task.Delay(50, cancellationToken);
            var now = Interlocked.Read(ref _delivered[1]);
            if (now != last)
            {
                last = now;
                lastChange.Restart();
            }
        }

        var delivered = Interlocked.Read(ref _delivered[1]);
        var share = published == 0 ? 0 : (double)delivered / published;
        return
        [
            string.Create(CultureInfo.InvariantCulture,
                $"Collector: received {delivered:N0} of the {published:N0} messages published in the measurement ({share:P1}), {delivered / result.Seconds:N0} delivered/s over the measurement's {result.Seconds:F1} s; waited {waited.Elapsed.TotalMilliseconds:N0} ms after its end for the rest (QoS 0: a collector that falls behind loses messages rather than slowing the publishers)."),
        ];
    }

    public override async ValueTask ReleaseAsync()
    {
        foreach (var client in _clients)
        {
            try
            {
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), CancellationToken.None);
                }
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                // The run is over; the server drops the connection when it stops.
            }

            client.Dispose();
        }

        foreach (var device in _devices)
        {
            device.Dispose();
        }
    }

    private async Task<IMqttClient> ConnectAsync(MqttDevice device, CancellationToken cancellationToken)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        _clients.Add(client);
        await MqttDevices.ConnectAsync(client, MqttDevices.ClientOptions(Context.Mqtt!, device, Context.Options.RequestTimeout), cancellationToken);
        return client;
    }
}

using System.Diagnostics.Metrics;

namespace Fleetkey.Mqtt;

/// <summary>The broker's instruments on Fleetkey's meter: connections, connects, refusals by reason, messages and denials.</summary>
internal sealed class BrokerMetrics
{
    private readonly Counter<long> _connects;
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _violations;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _revocations;
    private readonly Counter<long> _authorizationLookups;
    private int _connected;

    public BrokerMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        meter.CreateObservableUpDownCounter("fleetkey.mqtt.connections", () => Volatile.Read(ref _connected), "{connection}", "Devices connected to the MQTT broker.");
        _connects = meter.CreateCounter<long>("fleetkey.mqtt.connects", "{connection}", "MQTT connections accepted.");
        _refusals = meter.CreateCounter<long>(
            "fleetkey.mqtt.connect_refusals", "{connection}", "MQTT connections refused before they became a session (at accept, in the TLS handshake, before or at CONNECT), by reason.");
        _violations = meter.CreateCounter<long>(
            "fleetkey.mqtt.protocol_violations", "{connection}", "MQTT sessions closed for a packet that broke a rule or a limit (packet_too_large, topic_invalid, …), by reason.");
        _denials = meter.CreateCounter<long>("fleetkey.mqtt.authorization_denials", "{operation}", "Publishes, subscriptions and deliveries refused by policy, by action.");
        _messages = meter.CreateCounter<long>("fleetkey.mqtt.messages_published", "{message}", "Messages devices published that policies allowed.");
        _revocations = meter.CreateCounter<long>("fleetkey.mqtt.revocation_disconnects", "{connection}", "Connections closed because the certificate or its policies no longer allow them.");
        _authorizationLookups = meter.CreateCounter<long>(
            "fleetkey.mqtt.authorization_lookups", "{lookup}", "Device authorizations the broker needed (connect, publish, subscribe, delivery), by result: hit (from the cache) or miss (read from the store).");
    }

    public void Connected()
    {
        Interlocked.Increment(ref _connected);
        _connects.Add(1);
    }

    public void Disconnected() => Interlocked.Decrement(ref _connected);

    public void Refused(string reason) => _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Violated(string reason) => _violations.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Denied(string action) => _denials.Add(1, new KeyValuePair<string, object?>("action", action));

    public void Published() => _messages.Add(1);

    public void Revoked() => _revocations.Add(1);

    public void AuthorizationLookup(bool hit) => _authorizationLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
}

namespace Fleetkey.Mqtt;

/// <summary>
/// What the broker knows of one network connection beyond MQTTnet's session: why it was closed when
/// the client broke a rule, why its CONNECT must be refused, and the topic filters it holds. Shared by
/// the connection's frame guard, its channel adapter and, once authenticated, its <see cref="DeviceSession"/>.
/// </summary>
internal sealed class MqttConnectionState
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _subscriptions = new(StringComparer.Ordinal);
    private string? _violation;

    /// <summary>The first rule the client broke (a metric reason such as <c>packet_too_large</c>), or null.</summary>
    public string? Violation => Volatile.Read(ref _violation);

    /// <summary>A CONNECT that reached the broker but must be refused, with the reason code the client is told.</summary>
    public ConnectRefusal? ConnectRefusal { get; set; }

    /// <summary>Records the first violation; later ones are consequences of it. True if this was the first.</summary>
    public bool Violate(string reason) => Interlocked.CompareExchange(ref _violation, reason, null) is null;

    /// <summary>Adds a topic filter unless the connection already holds <paramref name="max"/> others; a filter held already is always fine.</summary>
    public bool TryAddSubscription(string filter, int max)
    {
        lock (_lock)
        {
            return _subscriptions.Contains(filter) || (_subscriptions.Count < max && _subscriptions.Add(filter));
        }
    }

    public void RemoveSubscription(string filter)
    {
        lock (_lock)
        {
            _subscriptions.Remove(filter);
        }
    }
}

/// <summary>Why a CONNECT is refused: the reason code for the CONNACK and the metric reason.</summary>
internal sealed record ConnectRefusal(MQTTnet.Protocol.MqttConnectReasonCode Code, string Reason);

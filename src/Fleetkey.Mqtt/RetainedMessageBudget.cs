using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Bounds what MQTTnet keeps as retained messages, which it holds in memory without limit: at most
/// <see cref="MqttBrokerOptions.MaxRetainedMessages"/> topics and <see cref="MqttBrokerOptions.MaxRetainedBytes"/>
/// bytes of payload on this node. A retained publish that would go over is refused (an MQTT 5 client
/// gets PUBACK 0x97 quota exceeded); one with an empty payload clears its topic and always passes.
/// </summary>
internal sealed class RetainedMessageBudget(IOptions<MqttBrokerOptions> options)
{
    private readonly MqttBrokerOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>Bytes of retained payload counted now (for tests and metrics).</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Counts a retained publish of <paramref name="payloadBytes"/> to <paramref name="topic"/>; false when it would go over.</summary>
    public bool TryRetain(string topic, long payloadBytes)
    {
        lock (_lock)
        {
            var previous = _sizes.GetValueOrDefault(topic);
            if (payloadBytes == 0)
            {
                _sizes.Remove(topic);
                _bytes -= previous;
                return true;
            }

            var isNew = !_sizes.ContainsKey(topic);
            if ((isNew && _sizes.Count >= _options.MaxRetainedMessages) || _bytes - previous + payloadBytes > _options.MaxRetainedBytes)
            {
                return false;
            }

            _sizes[topic] = payloadBytes;
            _bytes += payloadBytes - previous;
            return true;
        }
    }
}

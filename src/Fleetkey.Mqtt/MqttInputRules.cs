using System.Text;

namespace Fleetkey.Mqtt;

/// <summary>
/// What MQTT (3.1.1 §1.5.3, 4.7; 5.0 §1.5.4, 4.7) and AWS IoT Core allow in client ids, topic names and
/// topic filters. MQTTnet decodes these strings but checks none of it: a PUBLISH to <c>a/+</c> was
/// delivered, and a client id with U+0000 connected.
/// </summary>
internal static class MqttInputRules
{
    /// <summary>AWS IoT Core's client id limit, in UTF-8 bytes.</summary>
    public const int MaxClientIdBytes = 128;

    /// <summary>Why <paramref name="clientId"/> may not be used, or null.</summary>
    public static string? ClientIdProblem(string? clientId)
    {
        if (string.IsNullOrEmpty(clientId))
        {
            return "empty";
        }

        if (Encoding.UTF8.GetByteCount(clientId) > MaxClientIdBytes)
        {
            return "longer than 128 bytes";
        }

        return HasForbiddenCharacter(clientId) ? "a control character, U+FFFD or a lone surrogate" : null;
    }

    /// <summary>Why <paramref name="topic"/> may not be published to, or null. An empty topic is a matter of topic aliases, checked by the caller.</summary>
    public static string? TopicNameProblem(string topic)
    {
        if (Encoding.UTF8.GetByteCount(topic) > MqttBrokerOptions.MaxTopicBytes)
        {
            return "longer than 256 bytes";
        }

        if (topic.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            return "a wildcard (+ or #)";
        }

        return HasForbiddenCharacter(topic) ? "a control character, U+FFFD or a lone surrogate" : null;
    }

    /// <summary>Why <paramref name="filter"/> may not be subscribed to, or null.</summary>
    public static string? TopicFilterProblem(string filter)
    {
        if (filter.Length == 0)
        {
            return "empty";
        }

        if (Encoding.UTF8.GetByteCount(filter) > MqttBrokerOptions.MaxTopicBytes)
        {
            return "longer than 256 bytes";
        }

        if (HasForbiddenCharacter(filter))
        {
            return "a control character, U+FFFD or a lone surrogate";
        }

        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#', StringComparison.Ordinal) && (level.Length != 1 || i != levels.Length - 1))
            {
                return "# that is not the whole last level";
            }

            if (level.Contains('+', StringComparison.Ordinal) && level.Length != 1)
            {
                return "+ that is not a whole level";
            }
        }

        return null;
    }

    /// <summary>
    /// The client ids AWS IoT Core publishes no lifecycle events for: a topic naming them would be a filter.
    /// </summary>
    public static bool HasLifecycleEvents(string clientId) => clientId.AsSpan().IndexOfAny('+', '#') < 0;

    // U+0000 is forbidden by both versions; other C0 and C1 controls "SHOULD NOT" appear and are refused
    // here; U+FFFD is what MQTTnet's decoder made of bytes that were not UTF-8.
    private static bool HasForbiddenCharacter(string text)
    {
        foreach (var c in text)
        {
            if (c < 0x20 || c is >= '\u007f' and <= '\u009f' || c == '\ufffd' || char.IsSurrogate(c))
            {
                return HasForbiddenRune(text);
            }
        }

        return false;
    }

    private static bool HasForbiddenRune(string text)
    {
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return true;
            }

            if (rune.Value < 0x20 || rune.Value is >= 0x7f and <= 0x9f || rune.Value == 0xfffd)
            {
                return true;
            }

            span = span[used..];
        }

        return false;
    }
}

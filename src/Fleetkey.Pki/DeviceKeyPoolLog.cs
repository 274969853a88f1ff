using Microsoft.Extensions.Logging;

namespace Fleetkey.Pki;

/// <summary>
/// The device key pool's failures, logged by its generator, its prefetch and its store takes (the
/// fill's progress is <see cref="DeviceKeyPoolProgress"/>'s). All go to the logger the pool starts with.
/// </summary>
internal static partial class DeviceKeyPoolLog
{
    [LoggerMessage(EventId = 300, EventName = "KeyPoolFillFailed", Level = LogLevel.Warning, Message = "The device key pool could not be filled; retrying")]
    public static partial void FillFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 301, EventName = "KeyPoolKeysUnusable", Level = LogLevel.Warning, Message = "Discarded {Count} stored device keys that this node cannot open (sealed under another passphrase, or damaged)")]
    public static partial void UnusableKeys(ILogger logger, int count);
}

using System.Collections.Concurrent;
using Fleetkey.Services.Hosting;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Access;

/// <summary>
/// When and from where each key was last used (<c>fleetkey keys list</c>): noted in memory on every request and
/// written to the store every <see cref="FlushInterval"/>, so that a busy key costs no write per request.
/// </summary>
public sealed class AccessKeyUsage(IFleetStore store)
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(30);

    private ConcurrentDictionary<string, (DateTimeOffset At, string Source)> _uses = new(StringComparer.Ordinal);

    public void Note(string accessKeyId, DateTimeOffset at, string source) => _uses[accessKeyId] = (at, source);

    /// <summary>Writes the uses noted since the last flush.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var uses = Interlocked.Exchange(ref _uses, new(StringComparer.Ordinal));
        if (uses.IsEmpty)
        {
            return;
        }

        var list = uses.Select(u => (u.Key, u.Value.At, u.Value.Source)).ToList();
        await store.WriteAsync(async (session, ct) =>
        {
            await session.AccessKeys.RecordUsesAsync(list, ct);
            return true;
        }, cancellationToken);
    }
}

/// <summary>Flushes <see cref="AccessKeyUsage"/> periodically and once more when the server stops.</summary>
internal sealed partial class AccessKeyUsageFlush(AccessKeyUsage usage, TimeProvider time, ILogger<AccessKeyUsageFlush> logger)
    : PeriodicMaintenance(AccessKeyUsage.FlushInterval, time)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => usage.FlushAsync(cancellationToken);

    protected override void OnFailed(Exception exception) => LogFlushFailed(logger, exception);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await usage.FlushAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogFlushFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 1, EventName = "KeyUsageFlushFailed", Level = LogLevel.Warning, Message = "Recording when access keys were last used failed; it is tried again at the next period")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}

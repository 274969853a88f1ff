using System.Threading.Channels;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Audit;

/// <summary>
/// Appends audit records to the chain, gathering the records of concurrent requests into one transaction
/// (a group commit): each caller's task completes once its record is committed. One writer per process;
/// across nodes on PostgreSQL the chain's head row orders the writers (a conflicting append is retried by
/// the store from a fresh head).
/// </summary>
public sealed partial class AuditWriter(IFleetStore store, ILogger<AuditWriter> logger) : IAsyncDisposable
{
    /// <summary>The most records one transaction appends.</summary>
    public const int MaxBatch = 512;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private Task? _loop;

    /// <summary>Appends <paramref name="record"/> (numbered and chained here); completes when it is committed, fails when it could not be.</summary>
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var pending = new Pending(record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(AuditWriter), "The audit trail is closed: the server is stopping.");
        }

        EnsureStarted();
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _loop) is not null)
        {
            return;
        }

        lock (_gate)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            var records = batch.ConvertAll(p => p.Record);
            try
            {
                // Records are written whatever a caller's cancellation: a request already answered is still recorded.
                await store.WriteAsync(async (session, ct) =>
                {
                    var chain = await session.Audit.ChainAsync(ct);
                    await session.Audit.AppendAsync(AuditChain.Extend(chain, records), ct);
                    return true;
                }, CancellationToken.None).ConfigureAwait(false);
                batch.ForEach(p => p.Done.TrySetResult());
            }
            catch (Exception exception)
            {
                LogAppendFailed(logger, exception, batch.Count);
                batch.ForEach(p => p.Done.TrySetException(exception));
            }

            batch.Clear();
        }
    }

    private sealed record Pending(AuditRecord Record, TaskCompletionSource Done);

    [LoggerMessage(EventId = 1, EventName = "AuditAppendFailed", Level = LogLevel.Error, Message = "Could not append {Count} audit record(s)")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);
}

using System.Threading.Channels;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Audit;

/// <summary>
/// Appends audit records to the chain; each caller's task completes once its record is committed. On a store
/// that groups writes itself (SQLite) the records waiting when the store's writer reaches ours are appended by
/// one write of its group commit (<see cref="SubmitAsync"/>). Otherwise
/// (PostgreSQL) the records of concurrent requests are gathered into one transaction here, one at a time per
/// process; across nodes the chain's head row orders the writers (a conflicting append is retried by the
/// store from a fresh head).
/// </summary>
public sealed partial class AuditWriter(IFleetStore store, ILogger<AuditWriter> logger) : IAsyncDisposable
{
    /// <summary>The most records one transaction appends.</summary>
    public const int MaxBatch = 512;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly System.Collections.Concurrent.ConcurrentQueue<Pending> _waiting = new();
    private readonly Lock _gate = new();
    private int _submitted;
    private Task? _loop;

    /// <summary>Appends <paramref name="record"/> (numbered and chained here); completes when it is committed, fails when it could not be.</summary>
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var pending = new Pending(record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (store.GroupsWrites)
        {
            _waiting.Enqueue(pending);
            SubmitIfNone();
            return pending.Done.Task.WaitAsync(cancellationToken);
        }

        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(AuditWriter), "The audit trail is closed: the server is stopping.");
        }

        EnsureStarted();
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    // A store that groups writes (SQLite): one write is queued in the store's next group commit at once, and takes,
    // when the store's writer runs it, every record that arrived meanwhile. A record thus waits for one commit
    // cycle, as the request's own change did, not for a batch of ours ahead of it.
    private void SubmitIfNone()
    {
        if (Interlocked.CompareExchange(ref _submitted, 1, 0) == 0)
        {
            _ = SubmitAsync();
        }
    }

    private async Task SubmitAsync()
    {
        List<Pending>? batch = null;
        try
        {
            await store.WriteAsync(
                (session, ct) =>
                {
                    // Taken once: a retried transaction appends the same records.
                    batch ??= TakeWaiting();
                    return AppendAsync(session, batch.ConvertAll(p => p.Record), ct);
                },
                CancellationToken.None).ConfigureAwait(false);
            batch?.ForEach(p => p.Done.TrySetResult());
        }
        catch (Exception exception)
        {
            batch ??= TakeWaiting();
            LogAppendFailed(logger, exception, batch.Count);
            batch.ForEach(p => p.Done.TrySetException(exception));
        }
    }

    private List<Pending> TakeWaiting()
    {
        // From here a new record needs a new write: this one is past taking it.
        Volatile.Write(ref _submitted, 0);
        var batch = new List<Pending>();
        while (batch.Count < MaxBatch && _waiting.TryDequeue(out var pending))
        {
            batch.Add(pending);
        }

        if (!_waiting.IsEmpty)
        {
            SubmitIfNone();
        }

        return batch;
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
                await store.WriteAsync((session, ct) => AppendAsync(session, records, ct), CancellationToken.None).ConfigureAwait(false);
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

    private static async Task<bool> AppendAsync(IStoreSession session, IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        var chain = await session.Audit.ChainForAppendAsync(cancellationToken);
        await session.Audit.AppendAsync(AuditChain.Extend(chain, records), cancellationToken);
        return true;
    }

    private sealed record Pending(AuditRecord Record, TaskCompletionSource Done);

    [LoggerMessage(EventId = 1, EventName = "AuditAppendFailed", Level = LogLevel.Error, Message = "Could not append {Count} audit record(s)")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);
}

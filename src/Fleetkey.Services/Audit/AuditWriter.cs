using System.Threading.Channels;
using Fleetkey.Storage;
using Microsoft.Extensions.Logging;

namespace Fleetkey.Services.Audit;

/// <summary>
/// Appends audit records to the chain; each caller's task completes once its record is committed. On a store
/// that groups writes itself (SQLite) each record is one write of the store's next group commit. Otherwise
/// (PostgreSQL) the records of concurrent requests are gathered into one transaction here, one at a time per
/// process; across nodes the chain's head row orders the writers (a conflicting append is retried by the
/// store from a fresh head).
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
        if (store.GroupsWrites)
        {
            // The store's own writer gathers concurrent appends into its next commit and runs them in turn: no
            // batch of ours to wait behind (it would cost a request a second commit cycle), no conflict on the head.
            return store.WriteAsync((session, ct) => AppendAsync(session, [record], ct), CancellationToken.None).WaitAsync(cancellationToken);
        }

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
        var chain = await session.Audit.ChainAsync(cancellationToken);
        await session.Audit.AppendAsync(AuditChain.Extend(chain, records), cancellationToken);
        return true;
    }

    private sealed record Pending(AuditRecord Record, TaskCompletionSource Done);

    [LoggerMessage(EventId = 1, EventName = "AuditAppendFailed", Level = LogLevel.Error, Message = "Could not append {Count} audit record(s)")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);
}

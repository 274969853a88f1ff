using Fleetkey.Storage;

namespace Fleetkey.Services.Audit;

/// <summary>The outcome of <see cref="AuditTrail.VerifyAsync"/>: the chain checked whole, or the first record that breaks it.</summary>
/// <param name="Checked">Records checked.</param>
/// <param name="AnchorSequence">The sequence the first kept record follows (0: nothing pruned).</param>
/// <param name="HeadSequence">The last record's sequence.</param>
/// <param name="HeadHash">The last record's hash: kept elsewhere, it proves later that nothing before it was rewritten.</param>
/// <param name="BadSequence">The first record that does not verify (or where a record is missing), null when the chain holds.</param>
/// <param name="Problem">Why it does not verify.</param>
public sealed record AuditVerification(long Checked, long AnchorSequence, long HeadSequence, string HeadHash, long? BadSequence, string? Problem)
{
    public bool Verified => BadSequence is null;
}

/// <summary>The audit trail: records appended by <see cref="AuditWriter"/>, queried, verified and pruned here.</summary>
public sealed class AuditTrail(IFleetStore store, AuditWriter writer)
{
    /// <summary>The most records one query answers.</summary>
    public const int MaxPage = 1000;

    private const int VerifyPage = 2000;

    public Task RecordAsync(AuditRecord record, CancellationToken cancellationToken) => writer.AppendAsync(record, cancellationToken);

    /// <summary>Records matching <paramref name="query"/> after <paramref name="afterSequence"/>, oldest first.</summary>
    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, long afterSequence, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        limit = Math.Min(limit, MaxPage);
        return store.ReadAsync((session, ct) => session.Audit.QueryAsync(query, afterSequence, limit, ct), cancellationToken);
    }

    /// <summary>
    /// Walks the chain from its anchor to its head: every sequence present once, in order, each hash
    /// recomputed from the record and its predecessor's hash, and the last equal to the head.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var chain = await store.ReadAsync((session, ct) => session.Audit.ChainAsync(ct), cancellationToken);
        var previousHash = chain.AnchorHash;
        var expected = chain.AnchorSequence + 1;
        long count = 0;
        while (expected <= chain.LastSequence)
        {
            var page = await store.ReadAsync((session, ct) => session.Audit.QueryAsync(new AuditQuery(), expected - 1, VerifyPage, ct), cancellationToken);
            if (page.Count == 0)
            {
                return Bad(expected, $"record {expected} is missing (the head is {chain.LastSequence})");
            }

            foreach (var record in page)
            {
                if (record.Sequence > chain.LastSequence)
                {
                    break;
                }

                if (record.Sequence != expected)
                {
                    return Bad(expected, $"record {expected} is missing (the next record is {record.Sequence})");
                }

                var hash = AuditChain.Hash(previousHash, record);
                if (!string.Equals(hash, record.Hash, StringComparison.Ordinal))
                {
                    return Bad(record.Sequence, $"record {record.Sequence} ({record.RecordedAt:yyyy-MM-ddTHH:mm:ss.fffZ} {record.Operation}) does not match its hash: it or an earlier record was changed");
                }

                previousHash = hash;
                expected++;
                count++;
            }
        }

        if (!string.Equals(previousHash, chain.LastHash, StringComparison.Ordinal))
        {
            return Bad(chain.LastSequence, $"the chain's head names hash {chain.LastHash}, but record {chain.LastSequence} hashes to {previousHash}");
        }

        return new AuditVerification(count, chain.AnchorSequence, chain.LastSequence, chain.LastHash, null, null);

        AuditVerification Bad(long sequence, string problem) =>
            new(count, chain.AnchorSequence, chain.LastSequence, chain.LastHash, sequence, problem);
    }

    /// <summary>Deletes records older than <paramref name="before"/>, a batch per transaction, keeping the chain's anchor; returns how many.</summary>
    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        const int Batch = 5000;
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.WriteAsync((session, ct) => session.Audit.PruneAsync(before, Batch, ct), cancellationToken);
            total += deleted;
        }
        while (deleted == Batch);
        return total;
    }
}

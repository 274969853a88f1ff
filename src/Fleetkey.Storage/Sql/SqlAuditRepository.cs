using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlAuditRepository(SqlSession session) : IAuditRepository
{
    // 12 parameters a row: 64 rows stay far below SQLite's and PostgreSQL's parameter limits.
    private const int RowsPerInsert = 64;

    private const string Columns =
        "sequence, recorded_at, request_id, channel, access_key_id, operation, resources, source, user_agent, status, error_code, hash";

    private static AuditRecord Map(DbDataReader r) => new(
        r.GetInt64(0),
        SqlValues.Instant(r, 1),
        r.GetString(2),
        r.GetString(3),
        SqlValues.NullableString(r, 4),
        r.GetString(5),
        SqlValues.List(r, 6),
        SqlValues.NullableString(r, 7),
        SqlValues.NullableString(r, 8),
        checked((int)r.GetInt64(9)),
        SqlValues.NullableString(r, 10),
        r.GetString(11));

    public async Task<AuditChainState> ChainAsync(CancellationToken cancellationToken) =>
        await session.QuerySingleAsync(
            "SELECT last_sequence, last_hash, anchor_sequence, anchor_hash FROM audit_chain WHERE id = 1",
            r => new AuditChainState(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3)),
            cancellationToken)
        ?? throw new InvalidOperationException("The audit chain's head row is missing (schema 15 inserts it).");

    // UPDATE … RETURNING (both databases) takes the row's write lock while reading it.
    public async Task<AuditChainState> ChainForAppendAsync(CancellationToken cancellationToken) =>
        await session.QuerySingleAsync(
            "UPDATE audit_chain SET id = id WHERE id = 1 RETURNING last_sequence, last_hash, anchor_sequence, anchor_hash",
            r => new AuditChainState(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetString(3)),
            cancellationToken)
        ?? throw new InvalidOperationException("The audit chain's head row is missing (schema 15 inserts it).");

    public async Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return;
        }

        // Multi-row INSERTs: the records of a group commit cost the writer one statement per chunk, not one each.
        foreach (var chunk in records.Chunk(RowsPerInsert))
        {
            var sql = new StringBuilder($"INSERT INTO audit_records ({Columns}) VALUES ");
            var parameters = new List<(string, object?)>(chunk.Length * 12);
            for (var i = 0; i < chunk.Length; i++)
            {
                var r = chunk[i];
                var p = string.Create(CultureInfo.InvariantCulture, $"@r{i}_");
                sql.Append(i == 0 ? "(" : ", (")
                    .Append(CultureInfo.InvariantCulture, $"{p}0, {p}1, {p}2, {p}3, {p}4, {p}5, {p}6, {p}7, {p}8, {p}9, {p}10, {p}11)");
                parameters.Add((p + "0", r.Sequence));
                parameters.Add((p + "1", SqlValues.ToDb(r.RecordedAt)));
                parameters.Add((p + "2", r.RequestId));
                parameters.Add((p + "3", r.Channel));
                parameters.Add((p + "4", r.AccessKeyId));
                parameters.Add((p + "5", r.Operation));
                parameters.Add((p + "6", SqlValues.ToJson(r.Resources)));
                parameters.Add((p + "7", r.Source));
                parameters.Add((p + "8", r.UserAgent));
                parameters.Add((p + "9", (long)r.Status));
                parameters.Add((p + "10", r.ErrorCode));
                parameters.Add((p + "11", r.Hash));
            }

            await session.ExecuteAsync(sql.ToString(), cancellationToken, [.. parameters]);
        }

        var last = records[^1];
        await session.ExecuteAsync(
            "UPDATE audit_chain SET last_sequence = @sequence, last_hash = @hash WHERE id = 1",
            cancellationToken, ("@sequence", last.Sequence), ("@hash", last.Hash));
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, long afterSequence, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM audit_records WHERE sequence > @after");
        var parameters = new List<(string, object?)> { ("@after", afterSequence), ("@limit", (long)limit) };
        if (query.Since is { } since)
        {
            sql.Append(" AND recorded_at >= @since");
            parameters.Add(("@since", SqlValues.ToDb(since)));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND recorded_at < @until");
            parameters.Add(("@until", SqlValues.ToDb(until)));
        }

        if (query.AccessKeyId is { } key)
        {
            sql.Append(" AND access_key_id = @key");
            parameters.Add(("@key", key));
        }

        if (query.Operation is { } operation)
        {
            sql.Append(" AND operation = @operation");
            parameters.Add(("@operation", operation));
        }

        if (query.Resource is { } resource)
        {
            // Resources are a JSON array of ARNs: a match on one quoted element (ARNs hold no quote or backslash).
            sql.Append(" AND ").Append(session.Dialect.Contains("resources", "@resource")).Append(" > 0");
            parameters.Add(("@resource", "\"" + resource + "\""));
        }

        sql.Append(query.Outcome switch
        {
            AuditOutcome.Succeeded => " AND status >= 200 AND status < 300",
            AuditOutcome.Denied => " AND status IN (401, 403)",
            AuditOutcome.Failed => " AND (status < 200 OR status >= 300) AND status NOT IN (401, 403)",
            _ => string.Empty,
        });
        sql.Append(" ORDER BY sequence LIMIT @limit");
        return await session.QueryAsync(sql.ToString(), Map, cancellationToken, [.. parameters]);
    }

    public async Task<int> PruneAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var last = await session.QuerySingleAsync(
            string.Create(CultureInfo.InvariantCulture, $"SELECT sequence, hash FROM (SELECT sequence, hash FROM audit_records WHERE recorded_at < @before ORDER BY sequence LIMIT {limit}) AS oldest ORDER BY sequence DESC LIMIT 1"),
            r => new PrunedEnd(r.GetInt64(0), r.GetString(1)),
            cancellationToken, ("@before", SqlValues.ToDb(before)));
        if (last is null)
        {
            return 0;
        }

        var deleted = await session.ExecuteAsync("DELETE FROM audit_records WHERE sequence <= @sequence", cancellationToken, ("@sequence", last.Sequence));
        await session.ExecuteAsync(
            "UPDATE audit_chain SET anchor_sequence = @sequence, anchor_hash = @hash WHERE id = 1",
            cancellationToken, ("@sequence", last.Sequence), ("@hash", last.Hash));
        return deleted;
    }

    private sealed record PrunedEnd(long Sequence, string Hash);
}

using System.Text;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlDeviceKeyPoolRepository(SqlSession session) : IDeviceKeyPoolRepository
{
    public async Task AddAsync(IReadOnlyList<StoredPooledKey> keys, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // One multi-row INSERT: a fill batch is one statement and one commit.
        if (keys.Count == 0)
        {
            return;
        }

        var sql = new StringBuilder("INSERT INTO device_key_pool (algorithm, key_data, kek_salt, created_at) VALUES ");
        var parameters = new List<(string Name, object? Value)>(keys.Count * 3 + 1) { ("@at", SqlValues.ToDb(at)) };
        for (var i = 0; i < keys.Count; i++)
        {
            sql.Append(i == 0 ? string.Empty : ", ").Append($"(@a{i}, @k{i}, @s{i}, @at)");
            parameters.Add(($"@a{i}", keys[i].Algorithm));
            parameters.Add(($"@k{i}", keys[i].KeyData));
            parameters.Add(($"@s{i}", keys[i].KekSalt));
        }

        await session.ExecuteAsync(sql.ToString(), cancellationToken, [.. parameters]);
    }

    public async Task<IReadOnlyList<StoredPooledKey>> TakeAsync(string algorithm, int count, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "DELETE FROM device_key_pool WHERE id IN "
            + $"(SELECT id FROM device_key_pool WHERE algorithm = @algorithm ORDER BY id LIMIT @count{session.Dialect.SkipLocked}) "
            + "RETURNING algorithm, key_data, kek_salt",
            r => new StoredPooledKey(r.GetString(0), r.GetFieldValue<byte[]>(1), r.IsDBNull(2) ? null : r.GetFieldValue<byte[]>(2)),
            cancellationToken,
            ("@algorithm", algorithm), ("@count", count));

    public async Task<int> CountAsync(string algorithm, CancellationToken cancellationToken) =>
        Convert.ToInt32(
            await session.ScalarAsync("SELECT COUNT(*) FROM device_key_pool WHERE algorithm = @algorithm", cancellationToken, ("@algorithm", algorithm)),
            System.Globalization.CultureInfo.InvariantCulture);

    public Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken) =>
        session.ExecuteAsync("DELETE FROM device_key_pool WHERE kek_salt IS NULL", cancellationToken);
}

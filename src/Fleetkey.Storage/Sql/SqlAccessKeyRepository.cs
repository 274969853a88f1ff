using System.Data.Common;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlAccessKeyRepository(SqlSession session) : IAccessKeyRepository
{
    private static AccessKey Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), SqlValues.NullableString(r, 2), SqlValues.Instant(r, 3));

    public Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            "SELECT access_key_id, secret_access_key, description, created_at FROM access_keys WHERE access_key_id = @id",
            Map, cancellationToken, ("@id", accessKeyId));

    public Task InsertAsync(AccessKey key, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            "INSERT INTO access_keys (access_key_id, secret_access_key, description, created_at) VALUES (@id, @secret, @description, @created)",
            () => ThrowHelper.AlreadyExists($"Access key {key.AccessKeyId} already exists."),
            cancellationToken,
            ("@id", key.AccessKeyId), ("@secret", key.SecretAccessKey), ("@description", key.Description), ("@created", SqlValues.ToDb(key.CreatedAt)));

    public async Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT access_key_id, secret_access_key, description, created_at FROM access_keys ORDER BY created_at, access_key_id",
            Map, cancellationToken);

    public async Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM access_keys WHERE access_key_id = @id", cancellationToken, ("@id", accessKeyId)) > 0;

    public async Task<bool> AnyAsync(CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM access_keys LIMIT 1", cancellationToken) is not null;
}

using System.Data.Common;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlAccessKeyRepository(SqlSession session) : IAccessKeyRepository
{
    private const string Columns =
        "access_key_id, secret_access_key, description, created_at, status, full_access, secret_kek_salt, " +
        "previous_secret, previous_secret_kek_salt, previous_secret_expires_at, last_used_at, last_used_source";

    private const string KeyColumns =
        "k.access_key_id, k.secret_access_key, k.description, k.created_at, k.status, k.full_access, k.secret_kek_salt, " +
        "k.previous_secret, k.previous_secret_kek_salt, k.previous_secret_expires_at, k.last_used_at, k.last_used_source";

    private static AccessKey Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), SqlValues.NullableString(r, 2), SqlValues.Instant(r, 3))
        {
            Status = r.GetString(4),
            FullAccess = r.GetInt64(5) != 0,
            SecretKekSalt = SqlValues.NullableString(r, 6),
            PreviousSecretAccessKey = SqlValues.NullableString(r, 7),
            PreviousSecretKekSalt = SqlValues.NullableString(r, 8),
            PreviousSecretExpiresAt = SqlValues.NullableInstant(r, 9),
            LastUsedAt = SqlValues.NullableInstant(r, 10),
            LastUsedSource = SqlValues.NullableString(r, 11),
        };

    private static (string KeyId, AccessKeyPolicy Policy) MapPolicy(DbDataReader r) =>
        (r.GetString(0), new AccessKeyPolicy(r.GetString(1), r.GetString(2), SqlValues.Instant(r, 3)));

    // One round trip for a key and its policies: every signed request reads its key whenever anything was committed since.
    public async Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync(
            $"SELECT {KeyColumns}, p.policy_name, p.document, p.attached_at FROM access_keys k " +
            "LEFT JOIN access_key_policies p ON p.access_key_id = k.access_key_id WHERE k.access_key_id = @id ORDER BY p.policy_name",
            r => (Key: Map(r), Policy: r.IsDBNull(12) ? null : new AccessKeyPolicy(r.GetString(12), r.GetString(13), SqlValues.Instant(r, 14))),
            cancellationToken, ("@id", accessKeyId));
        return rows.Count == 0 ? null : rows[0].Key with { Policies = [.. rows.Select(r => r.Policy).OfType<AccessKeyPolicy>()] };
    }

    public async Task InsertAsync(AccessKey key, CancellationToken cancellationToken)
    {
        await session.InsertUniqueAsync(
            "INSERT INTO access_keys (access_key_id, secret_access_key, description, created_at, status, full_access, secret_kek_salt, " +
            "previous_secret, previous_secret_kek_salt, previous_secret_expires_at, last_used_at, last_used_source) " +
            "VALUES (@id, @secret, @description, @created, @status, @full, @salt, @previous, @previousSalt, @previousExpires, @lastUsed, @lastSource)",
            () => ThrowHelper.AlreadyExists($"Access key {key.AccessKeyId} already exists."),
            cancellationToken,
            ("@id", key.AccessKeyId), ("@secret", key.SecretAccessKey), ("@description", key.Description), ("@created", SqlValues.ToDb(key.CreatedAt)),
            ("@status", key.Status), ("@full", key.FullAccess ? 1L : 0L), ("@salt", key.SecretKekSalt),
            ("@previous", key.PreviousSecretAccessKey), ("@previousSalt", key.PreviousSecretKekSalt), ("@previousExpires", SqlValues.ToDb(key.PreviousSecretExpiresAt)),
            ("@lastUsed", SqlValues.ToDb(key.LastUsedAt)), ("@lastSource", key.LastUsedSource));
        foreach (var policy in key.Policies)
        {
            await PutPolicyAsync(key.AccessKeyId, policy, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken)
    {
        var keys = await session.QueryAsync($"SELECT {Columns} FROM access_keys ORDER BY created_at, access_key_id", Map, cancellationToken);
        var policies = (await session.QueryAsync(
                "SELECT access_key_id, policy_name, document, attached_at FROM access_key_policies ORDER BY access_key_id, policy_name",
                MapPolicy, cancellationToken))
            .ToLookup(p => p.KeyId, p => p.Policy, StringComparer.Ordinal);
        return [.. keys.Select(k => k with { Policies = [.. policies[k.AccessKeyId]] })];
    }

    public async Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM access_keys WHERE access_key_id = @id", cancellationToken, ("@id", accessKeyId)) > 0;

    public async Task<bool> AnyAsync(CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM access_keys LIMIT 1", cancellationToken) is not null;

    public async Task<bool> UpdateStatusAsync(string accessKeyId, string status, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE access_keys SET status = @status WHERE access_key_id = @id",
            cancellationToken, ("@id", accessKeyId), ("@status", status)) > 0;

    public async Task<bool> UpdateSecretsAsync(AccessKey key, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE access_keys SET secret_access_key = @secret, secret_kek_salt = @salt, previous_secret = @previous, " +
            "previous_secret_kek_salt = @previousSalt, previous_secret_expires_at = @previousExpires WHERE access_key_id = @id",
            cancellationToken,
            ("@id", key.AccessKeyId), ("@secret", key.SecretAccessKey), ("@salt", key.SecretKekSalt),
            ("@previous", key.PreviousSecretAccessKey), ("@previousSalt", key.PreviousSecretKekSalt),
            ("@previousExpires", SqlValues.ToDb(key.PreviousSecretExpiresAt))) > 0;

    public async Task PutPolicyAsync(string accessKeyId, AccessKeyPolicy policy, CancellationToken cancellationToken)
    {
        var parameters = new (string, object?)[] { ("@id", accessKeyId), ("@name", policy.PolicyName), ("@document", policy.Document), ("@at", SqlValues.ToDb(policy.AttachedAt)) };
        if (await session.ExecuteAsync(
                "UPDATE access_key_policies SET document = @document, attached_at = @at WHERE access_key_id = @id AND policy_name = @name",
                cancellationToken, parameters) == 0)
        {
            await session.ExecuteAsync(
                "INSERT INTO access_key_policies (access_key_id, policy_name, document, attached_at) VALUES (@id, @name, @document, @at)",
                cancellationToken, parameters);
        }
    }

    public async Task<bool> DeletePolicyAsync(string accessKeyId, string policyName, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM access_key_policies WHERE access_key_id = @id AND policy_name = @name",
            cancellationToken, ("@id", accessKeyId), ("@name", policyName)) > 0;

    public async Task RecordUsesAsync(IReadOnlyList<(string AccessKeyId, DateTimeOffset At, string Source)> uses, CancellationToken cancellationToken)
    {
        foreach (var (id, at, source) in uses)
        {
            await session.ExecuteAsync(
                "UPDATE access_keys SET last_used_at = @at, last_used_source = @source WHERE access_key_id = @id AND (last_used_at IS NULL OR last_used_at < @at)",
                cancellationToken, ("@id", id), ("@at", SqlValues.ToDb(at)), ("@source", source));
        }
    }
}

using System.Data.Common;
using System.Globalization;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlPolicyRepository(SqlSession session) : IPolicyRepository
{
    private const string Columns = "name, default_version_id, next_version_id, created_at, last_modified_at, generation_id";

    private static Policy Map(DbDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetInt64(2), SqlValues.Instant(r, 3), SqlValues.Instant(r, 4), r.GetString(5));

    private static PolicyVersion MapVersion(DbDataReader r) => new(r.GetString(0), r.GetInt64(1), r.GetString(2), SqlValues.Instant(r, 3));

    public Task<Policy?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM policies WHERE name = @name", Map, cancellationToken, ("@name", name));

    public async Task InsertAsync(Policy policy, PolicyVersion firstVersion, CancellationToken cancellationToken)
    {
        await session.InsertUniqueAsync(
            $"INSERT INTO policies ({Columns}) VALUES (@name, @default, @next, @created, @modified, @generation)",
            () => ThrowHelper.AlreadyExists($"Policy cannot be created - name already exists (name={policy.Name})", policy.Name, new ResourceRef(ResourceKind.Policy, policy.Name)),
            cancellationToken,
            Parameters(policy));
        await InsertVersionAsync(firstVersion, cancellationToken);
    }

    public Task UpdateAsync(Policy policy, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE policies SET default_version_id = @default, next_version_id = @next, last_modified_at = @modified, generation_id = @generation WHERE name = @name",
            cancellationToken,
            Parameters(policy));

    private static (string, object?)[] Parameters(Policy p) =>
    [
        ("@name", p.Name), ("@default", p.DefaultVersionId), ("@next", p.NextVersionId), ("@created", SqlValues.ToDb(p.CreatedAt)),
        ("@modified", SqlValues.ToDb(p.LastModifiedAt)), ("@generation", p.GenerationId),
    ];

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM policies WHERE name = @name", cancellationToken, ("@name", name)) > 0;

    public async Task<IReadOnlyList<Policy>> ListAsync(bool ascending, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM policies WHERE 1 = 1");
        var (afterCreated, afterId) = CreationKeyset.Append(sql, after, ascending, "name");
        return await session.QueryAsync(sql.ToString(), Map, cancellationToken, ("@afterCreated", afterCreated), ("@afterId", afterId), ("@limit", limit));
    }

    public Task<PolicyVersion?> GetVersionAsync(string policyName, long versionId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            "SELECT policy_name, version_id, document, created_at FROM policy_versions WHERE policy_name = @name AND version_id = @version",
            MapVersion, cancellationToken, ("@name", policyName), ("@version", versionId));

    public async Task<IReadOnlyList<PolicyVersion>> ListVersionsAsync(string policyName, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT policy_name, version_id, document, created_at FROM policy_versions WHERE policy_name = @name ORDER BY version_id DESC",
            MapVersion, cancellationToken, ("@name", policyName));

    public Task InsertVersionAsync(PolicyVersion version, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "INSERT INTO policy_versions (policy_name, version_id, document, created_at) VALUES (@name, @version, @document, @created)",
            cancellationToken,
            ("@name", version.PolicyName), ("@version", version.VersionId), ("@document", version.Document), ("@created", SqlValues.ToDb(version.CreatedAt)));

    public async Task<bool> DeleteVersionAsync(string policyName, long versionId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM policy_versions WHERE policy_name = @name AND version_id = @version",
            cancellationToken, ("@name", policyName), ("@version", versionId)) > 0;

    public async Task<bool> AttachAsync(string policyName, PolicyTarget target, DateTimeOffset at, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "INSERT INTO policy_targets (policy_name, target_kind, target_id, attached_at) VALUES (@name, @kind, @id, @at) ON CONFLICT DO NOTHING",
            cancellationToken, ("@name", policyName), ("@kind", target.Kind), ("@id", target.Id), ("@at", SqlValues.ToDb(at))) > 0;

    public async Task<bool> DetachAsync(string policyName, PolicyTarget target, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM policy_targets WHERE policy_name = @name AND target_kind = @kind AND target_id = @id",
            cancellationToken, ("@name", policyName), ("@kind", target.Kind), ("@id", target.Id)) > 0;

    public Task<int> DetachAllAsync(PolicyTarget target, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "DELETE FROM policy_targets WHERE target_kind = @kind AND target_id = @id",
            cancellationToken, ("@kind", target.Kind), ("@id", target.Id));

    public async Task<IReadOnlyList<string>> ListAttachedAsync(IReadOnlyList<PolicyTarget> targets, string? after, int limit, CancellationToken cancellationToken)
    {
        if (targets.Count == 0)
        {
            return [];
        }

        var sql = new StringBuilder("SELECT DISTINCT policy_name FROM policy_targets WHERE (");
        var parameters = new List<(string Name, object? Value)> { ("@limit", limit), ("@after", after) };
        for (var i = 0; i < targets.Count; i++)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? string.Empty : " OR ").Append($"(target_kind = @kind{index} AND target_id = @id{index})");
            parameters.Add(("@kind" + index, targets[i].Kind));
            parameters.Add(("@id" + index, targets[i].Id));
        }

        sql.Append(')');
        if (after is not null)
        {
            sql.Append(" AND policy_name > @after");
        }

        sql.Append(" ORDER BY policy_name LIMIT @limit");
        return await session.QueryAsync(sql.ToString(), r => r.GetString(0), cancellationToken, parameters.ToArray());
    }

    public async Task<IReadOnlyList<PolicyTarget>> ListTargetsAsync(string policyName, string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT target_kind, target_id FROM policy_targets WHERE policy_name = @name"
            + (after is null ? string.Empty : " AND target_kind || '/' || target_id > @after")
            + " ORDER BY target_kind || '/' || target_id LIMIT @limit",
            r => new PolicyTarget(r.GetString(0), r.GetString(1)),
            cancellationToken, ("@name", policyName), ("@after", after), ("@limit", limit));

    public async Task<int> CountAttachedAsync(PolicyTarget target, CancellationToken cancellationToken) =>
        Convert.ToInt32(await session.ScalarAsync(
            "SELECT COUNT(*) FROM policy_targets WHERE target_kind = @kind AND target_id = @id",
            cancellationToken, ("@kind", target.Kind), ("@id", target.Id)), CultureInfo.InvariantCulture);

    public async Task<bool> IsAttachedAnywhereAsync(string policyName, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM policy_targets WHERE policy_name = @name LIMIT 1", cancellationToken, ("@name", policyName)) is not null;
}

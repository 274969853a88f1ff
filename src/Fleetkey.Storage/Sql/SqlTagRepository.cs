using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlTagRepository(SqlSession session) : ITagRepository
{
    public async Task<IReadOnlyList<Tag>> ListAsync(string resourceKind, string resourceName, string? afterKey, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT tag_key, tag_value FROM tags WHERE resource_kind = @kind AND resource_name = @name"
            + (afterKey is null ? string.Empty : " AND tag_key > @after")
            + " ORDER BY tag_key LIMIT @limit",
            r => new Tag(r.GetString(0), r.GetString(1)),
            cancellationToken,
            ("@kind", resourceKind), ("@name", resourceName), ("@after", afterKey), ("@limit", limit));

    public async Task<int> CountAsync(string resourceKind, string resourceName, CancellationToken cancellationToken) =>
        Convert.ToInt32(await session.ScalarAsync(
            "SELECT COUNT(*) FROM tags WHERE resource_kind = @kind AND resource_name = @name",
            cancellationToken,
            ("@kind", resourceKind), ("@name", resourceName)), System.Globalization.CultureInfo.InvariantCulture);

    public async Task SetAsync(string resourceKind, string resourceName, IEnumerable<Tag> tags, CancellationToken cancellationToken)
    {
        foreach (var tag in tags)
        {
            await session.ExecuteAsync(
                "INSERT INTO tags (resource_kind, resource_name, tag_key, tag_value) VALUES (@kind, @name, @key, @value) ON CONFLICT (resource_kind, resource_name, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                cancellationToken,
                ("@kind", resourceKind), ("@name", resourceName), ("@key", tag.Key), ("@value", tag.Value));
        }
    }

    public async Task RemoveAsync(string resourceKind, string resourceName, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            await session.ExecuteAsync(
                "DELETE FROM tags WHERE resource_kind = @kind AND resource_name = @name AND tag_key = @key",
                cancellationToken,
                ("@kind", resourceKind), ("@name", resourceName), ("@key", key));
        }
    }

    public Task RemoveAllAsync(string resourceKind, string resourceName, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "DELETE FROM tags WHERE resource_kind = @kind AND resource_name = @name",
            cancellationToken,
            ("@kind", resourceKind), ("@name", resourceName));
}

using System.Data.Common;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

/// <summary>
/// Groups carry their materialised path (root/…/name); the descendants of a group are the rows whose
/// path lies in [path + '/', path + '0'), '0' being the character after '/'. Range predicates, not
/// LIKE, so they use the index and compare bytes on every database.
/// </summary>
internal sealed class SqlThingGroupRepository(SqlSession session) : IThingGroupRepository
{
    private const string Columns = "g.name, g.thing_group_id, g.parent_name, g.path, g.description, g.attributes, g.version, g.created_at";

    private static ThingGroup Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        SqlValues.NullableString(r, 2),
        r.GetString(3),
        SqlValues.NullableString(r, 4),
        SqlValues.Map(r, 5),
        r.GetInt64(6),
        SqlValues.Instant(r, 7));

    public Task<ThingGroup?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM thing_groups g WHERE g.name = @name", Map, cancellationToken, ("@name", name));

    public Task InsertAsync(ThingGroup group, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            "INSERT INTO thing_groups (name, thing_group_id, parent_name, path, description, attributes, version, created_at) VALUES (@name, @id, @parent, @path, @description, @attributes, @version, @created)",
            () => ThrowHelper.AlreadyExists($"Thing group {group.Name} already exists with different properties.", null, new ResourceRef(ResourceKind.ThingGroup, group.Name)),
            cancellationToken,
            ("@name", group.Name), ("@id", group.ThingGroupId), ("@parent", group.ParentName), ("@path", group.Path),
            ("@description", group.Description), ("@attributes", SqlValues.ToJson(group.Attributes)), ("@version", group.Version),
            ("@created", SqlValues.ToDb(group.CreatedAt)));

    public Task UpdateAsync(ThingGroup group, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE thing_groups SET description = @description, attributes = @attributes, version = @version WHERE name = @name",
            cancellationToken,
            ("@name", group.Name), ("@description", group.Description), ("@attributes", SqlValues.ToJson(group.Attributes)), ("@version", group.Version));

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM thing_groups WHERE name = @name", cancellationToken, ("@name", name)) > 0;

    public async Task<bool> HasChildrenAsync(string name, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM thing_groups WHERE parent_name = @name LIMIT 1", cancellationToken, ("@name", name)) is not null;

    public async Task<IReadOnlyList<ThingGroup>> ListAsync(ThingGroup? parent, bool recursive, string? namePrefix, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM thing_groups g WHERE 1 = 1");
        if (parent is not null && recursive)
        {
            sql.Append(" AND g.path >= @pathStart AND g.path < @pathEnd");
        }
        else if (parent is not null)
        {
            sql.Append(" AND g.parent_name = @parent");
        }

        if (namePrefix is not null)
        {
            sql.Append(" AND g.name >= @prefix AND g.name < @prefixEnd");
        }

        if (after is not null)
        {
            sql.Append(" AND g.name > @after");
        }

        sql.Append(" ORDER BY g.name LIMIT @limit");
        return await session.QueryAsync(
            sql.ToString(), Map, cancellationToken,
            ("@pathStart", parent?.Path + "/"), ("@pathEnd", parent?.Path + "0"), ("@parent", parent?.Name),
            ("@prefix", namePrefix), ("@prefixEnd", namePrefix + "\uFFFF"), ("@after", after), ("@limit", limit));
    }

    public async Task<IReadOnlyList<ThingGroup>> ListForThingAsync(string thingName, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = $"SELECT {Columns} FROM thing_group_members m JOIN thing_groups g ON g.name = m.group_name WHERE m.thing_name = @thing"
            + (after is null ? string.Empty : " AND g.name > @after")
            + " ORDER BY g.name LIMIT @limit";
        return await session.QueryAsync(sql, Map, cancellationToken, ("@thing", thingName), ("@after", after), ("@limit", limit));
    }

    public async Task<bool> AddThingAsync(string groupName, string thingName, DateTimeOffset at, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "INSERT INTO thing_group_members (group_name, thing_name, added_at) VALUES (@group, @thing, @at) ON CONFLICT DO NOTHING",
            cancellationToken,
            ("@group", groupName), ("@thing", thingName), ("@at", SqlValues.ToDb(at))) > 0;

    public async Task<bool> RemoveThingAsync(string groupName, string thingName, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM thing_group_members WHERE group_name = @group AND thing_name = @thing",
            cancellationToken,
            ("@group", groupName), ("@thing", thingName)) > 0;

    public async Task<IReadOnlyList<string>> ListThingNamesAsync(ThingGroup group, bool recursive, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT DISTINCT m.thing_name FROM thing_group_members m");
        if (recursive)
        {
            sql.Append(" JOIN thing_groups g ON g.name = m.group_name WHERE (g.name = @group OR (g.path >= @pathStart AND g.path < @pathEnd))");
        }
        else
        {
            sql.Append(" WHERE m.group_name = @group");
        }

        if (after is not null)
        {
            sql.Append(" AND m.thing_name > @after");
        }

        sql.Append(" ORDER BY m.thing_name LIMIT @limit");
        return await session.QueryAsync(
            sql.ToString(), r => r.GetString(0), cancellationToken,
            ("@group", group.Name), ("@pathStart", group.Path + "/"), ("@pathEnd", group.Path + "0"), ("@after", after), ("@limit", limit));
    }
}

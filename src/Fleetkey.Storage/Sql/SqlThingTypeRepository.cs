using System.Data.Common;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlThingTypeRepository(SqlSession session) : IThingTypeRepository
{
    private const string Columns = "name, thing_type_id, description, searchable_attributes, mqtt5_configuration, deprecated, deprecated_at, created_at";

    private static ThingType Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        SqlValues.NullableString(r, 2),
        SqlValues.List(r, 3),
        SqlValues.NullableString(r, 4),
        r.GetInt64(5) != 0,
        SqlValues.NullableInstant(r, 6),
        SqlValues.Instant(r, 7));

    public Task<ThingType?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM thing_types WHERE name = @name", Map, cancellationToken, ("@name", name));

    public Task InsertAsync(ThingType type, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            "INSERT INTO thing_types (name, thing_type_id, description, searchable_attributes, mqtt5_configuration, deprecated, deprecated_at, created_at) VALUES (@name, @id, @description, @searchable, @mqtt5, @deprecated, @deprecatedAt, @created)",
            () => ThrowHelper.AlreadyExists($"Thing type {type.Name} already exists.", null, new ResourceRef(ResourceKind.ThingType, type.Name)),
            cancellationToken,
            Parameters(type));

    public Task UpdateAsync(ThingType type, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE thing_types SET description = @description, searchable_attributes = @searchable, mqtt5_configuration = @mqtt5, deprecated = @deprecated, deprecated_at = @deprecatedAt WHERE name = @name",
            cancellationToken,
            Parameters(type));

    private static (string, object?)[] Parameters(ThingType type) =>
    [
        ("@name", type.Name), ("@id", type.ThingTypeId), ("@description", type.Description),
        ("@searchable", SqlValues.ToJson(type.SearchableAttributes)), ("@mqtt5", type.Mqtt5ConfigurationJson), ("@deprecated", type.Deprecated ? 1 : 0),
        ("@deprecatedAt", SqlValues.ToDb(type.DeprecatedAt)), ("@created", SqlValues.ToDb(type.CreatedAt)),
    ];

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM thing_types WHERE name = @name", cancellationToken, ("@name", name)) > 0;

    public async Task<IReadOnlyList<ThingType>> ListAsync(string? name, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM thing_types WHERE 1 = 1");
        if (name is not null)
        {
            sql.Append(" AND name = @name");
        }

        if (after is not null)
        {
            sql.Append(" AND name > @after");
        }

        sql.Append(" ORDER BY name LIMIT @limit");
        return await session.QueryAsync(sql.ToString(), Map, cancellationToken, ("@name", name), ("@after", after), ("@limit", limit));
    }
}

using System.Data.Common;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

/// <summary>
/// Things live in <c>things</c>; their attributes are kept twice: as JSON on the row (read with the
/// thing) and as rows of <c>thing_attributes</c> indexed by (name, value, thing_name), so that an
/// attribute search walks an index in page order instead of scanning.
/// </summary>
internal sealed class SqlThingRepository(SqlSession session) : IThingRepository
{
    private const string Columns = "t.name, t.thing_id, t.type_name, t.attributes, t.version, t.created_at";

    private static Thing Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        SqlValues.NullableString(r, 2),
        SqlValues.Map(r, 3),
        r.GetInt64(4),
        SqlValues.Instant(r, 5));

    internal const string SelectByName = $"SELECT {Columns} FROM things t WHERE t.name = @name";

    public Task<Thing?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(SelectByName, Map, cancellationToken, ("@name", name));

    private const string Insert =
        "INSERT INTO things (name, thing_id, type_name, attributes, version, created_at) VALUES (@name, @id, @type, @attributes, @version, @created)";

    private static (string Name, object? Value)[] InsertParameters(Thing thing) =>
    [
        ("@name", thing.Name), ("@id", thing.ThingId), ("@type", thing.TypeName), ("@attributes", SqlValues.ToJson(thing.Attributes)),
        ("@version", thing.Version), ("@created", SqlValues.ToDb(thing.CreatedAt)),
    ];

    public async Task InsertAsync(Thing thing, CancellationToken cancellationToken)
    {
        await session.InsertUniqueAsync(
            Insert,
            () => ThrowHelper.AlreadyExists($"Thing {thing.Name} already exists with different attributes", null, new ResourceRef(ResourceKind.Thing, thing.Name)),
            cancellationToken,
            InsertParameters(thing));
        await InsertAttributesAsync(thing, cancellationToken);
    }

    public async Task<bool> TryInsertAsync(Thing thing, CancellationToken cancellationToken)
    {
        var inserted = await session.ExecuteAsync($"{Insert} ON CONFLICT (name) DO NOTHING", cancellationToken, InsertParameters(thing));
        if (inserted == 0)
        {
            return false;
        }

        await InsertAttributesAsync(thing, cancellationToken);
        return true;
    }

    public async Task UpdateAsync(Thing thing, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(
            "UPDATE things SET type_name = @type, attributes = @attributes, version = @version WHERE name = @name",
            cancellationToken,
            ("@name", thing.Name), ("@type", thing.TypeName), ("@attributes", SqlValues.ToJson(thing.Attributes)), ("@version", thing.Version));
        await session.ExecuteAsync("DELETE FROM thing_attributes WHERE thing_name = @name", cancellationToken, ("@name", thing.Name));
        await InsertAttributesAsync(thing, cancellationToken);
    }

    private async Task InsertAttributesAsync(Thing thing, CancellationToken cancellationToken)
    {
        foreach (var (key, value) in thing.Attributes)
        {
            await session.ExecuteAsync(
                "INSERT INTO thing_attributes (thing_name, name, value) VALUES (@thing, @name, @value)",
                cancellationToken,
                ("@thing", thing.Name), ("@name", key), ("@value", value));
        }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        // Attributes and memberships go with the row (ON DELETE CASCADE on thing_name).
        return await session.ExecuteAsync("DELETE FROM things WHERE name = @name", cancellationToken, ("@name", name)) > 0;
    }

    public async Task<IReadOnlyList<Thing>> ListAsync(ThingQuery query, string? after, int limit, CancellationToken cancellationToken)
    {
        var (sql, parameters) = ListQuery(query, after, limit);
        return await session.QueryAsync(sql, Map, cancellationToken, parameters);
    }

    /// <summary>The page query for ListThings; internal so tests can check its plan uses an index.</summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) ListQuery(ThingQuery query, string? after, int limit)
    {
        var sql = new StringBuilder();
        var parameters = new List<(string Name, object? Value)> { ("@limit", limit) };
        if (query.AttributeName is null)
        {
            sql.Append($"SELECT {Columns} FROM things t WHERE 1 = 1");
            if (query.TypeName is not null)
            {
                sql.Append(" AND t.type_name = @type");
                parameters.Add(("@type", query.TypeName));
            }

            if (after is not null)
            {
                sql.Append(" AND t.name > @after");
                parameters.Add(("@after", after));
            }

            sql.Append(" ORDER BY t.name LIMIT @limit");
        }
        else
        {
            sql.Append($"SELECT {Columns} FROM thing_attributes a JOIN things t ON t.name = a.thing_name WHERE a.name = @attributeName");
            parameters.Add(("@attributeName", query.AttributeName));
            if (query.AttributeValue is not null && query.UsePrefixAttributeValue)
            {
                // A range, not LIKE: it uses the index and compares bytes, as AWS matches case-sensitively.
                sql.Append(" AND a.value >= @value AND a.value < @valueEnd");
                parameters.Add(("@value", query.AttributeValue));
                parameters.Add(("@valueEnd", query.AttributeValue + "\uFFFF"));
            }
            else if (query.AttributeValue is not null)
            {
                sql.Append(" AND a.value = @value");
                parameters.Add(("@value", query.AttributeValue));
            }

            if (query.TypeName is not null)
            {
                sql.Append(" AND t.type_name = @type");
                parameters.Add(("@type", query.TypeName));
            }

            if (after is not null)
            {
                sql.Append(" AND a.thing_name > @after");
                parameters.Add(("@after", after));
            }

            sql.Append(" ORDER BY a.thing_name LIMIT @limit");
        }

        return (sql.ToString(), parameters.ToArray());
    }

    public async Task<bool> AnyOfTypeAsync(string typeName, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM things WHERE type_name = @type LIMIT 1", cancellationToken, ("@type", typeName)) is not null;
}

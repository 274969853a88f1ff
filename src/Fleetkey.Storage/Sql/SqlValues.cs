using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fleetkey.Storage.Sql;

/// <summary>How values are kept in columns: instants as Unix milliseconds, maps and lists as JSON text.</summary>
internal static class SqlValues
{
    public static long ToDb(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static long? ToDb(DateTimeOffset? value) => value?.ToUnixTimeMilliseconds();

    public static DateTimeOffset Instant(DbDataReader reader, int ordinal) =>
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static DateTimeOffset? NullableInstant(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    public static string? NullableString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Binary values are kept as base64 text: the export format and both databases carry text alike.</summary>
    public static string? ToDb(byte[]? value) => value is null ? null : Convert.ToBase64String(value);

    public static byte[]? Bytes(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.FromBase64String(reader.GetString(ordinal));

    /// <summary>
    /// A keyset page over <paramref name="select"/> ordered by <paramref name="key"/>: rows after
    /// <c>@after</c> (when there is one) that satisfy <paramref name="condition"/>, at most <c>@limit</c>.
    /// </summary>
    public static string KeysetPage(string select, string key, string? condition, string? after)
    {
        var where = new List<string>(2);
        if (condition is not null)
        {
            where.Add(condition);
        }

        if (after is not null)
        {
            where.Add($"{key} > @after");
        }

        return $"{select}{(where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where))} ORDER BY {key} LIMIT @limit";
    }

    public static string ToJson(IReadOnlyDictionary<string, string> map) =>
        JsonSerializer.Serialize(map.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal), StorageJsonContext.Default.DictionaryStringString);

    public static string ToJson(IReadOnlyList<string> list) =>
        JsonSerializer.Serialize(list.ToList(), StorageJsonContext.Default.ListString);

    public static IReadOnlyDictionary<string, string> Map(DbDataReader reader, int ordinal) =>
        JsonSerializer.Deserialize(reader.GetString(ordinal), StorageJsonContext.Default.DictionaryStringString)
        ?? new Dictionary<string, string>(StringComparer.Ordinal);

    public static IReadOnlyList<string> List(DbDataReader reader, int ordinal) =>
        JsonSerializer.Deserialize(reader.GetString(ordinal), StorageJsonContext.Default.ListString) ?? [];
}

[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;

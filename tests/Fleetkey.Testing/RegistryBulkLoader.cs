using Microsoft.Data.Sqlite;

namespace Fleetkey.Testing;

/// <summary>
/// Fills a Fleetkey SQLite database with many things fast (prepared statements in one transaction),
/// for tests and benchmarks that need a large registry. Things are named <c>{prefix}{i:D7}</c>, carry
/// a <c>serial</c> attribute <c>SN{i:D7}</c> and, every tenth one, the given thing type.
/// </summary>
public static class RegistryBulkLoader
{
    public static void Load(string databasePath, int count, string prefix = "thing-", string? typeName = null)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Foreign Keys=True");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (typeName is not null)
        {
            using var type = connection.CreateCommand();
            type.Transaction = transaction;
            type.CommandText = "INSERT OR IGNORE INTO thing_types (name, thing_type_id, searchable_attributes, deprecated, created_at) VALUES ($name, $id, '[]', 0, $now)";
            type.Parameters.AddWithValue("$name", typeName);
            type.Parameters.AddWithValue("$id", Guid.NewGuid().ToString());
            type.Parameters.AddWithValue("$now", now);
            type.ExecuteNonQuery();
        }

        using var thing = connection.CreateCommand();
        thing.Transaction = transaction;
        thing.CommandText = "INSERT INTO things (name, thing_id, type_name, attributes, version, created_at) VALUES ($name, $id, $type, $attributes, 1, $now)";
        var name = thing.Parameters.Add("$name", SqliteType.Text);
        var id = thing.Parameters.Add("$id", SqliteType.Text);
        var type2 = thing.Parameters.Add("$type", SqliteType.Text);
        var attributes = thing.Parameters.Add("$attributes", SqliteType.Text);
        thing.Parameters.AddWithValue("$now", now);
        thing.Prepare();

        using var attribute = connection.CreateCommand();
        attribute.Transaction = transaction;
        attribute.CommandText = "INSERT INTO thing_attributes (thing_name, name, value) VALUES ($thing, 'serial', $value)";
        var attributeThing = attribute.Parameters.Add("$thing", SqliteType.Text);
        var attributeValue = attribute.Parameters.Add("$value", SqliteType.Text);
        attribute.Prepare();

        for (var i = 0; i < count; i++)
        {
            var thingName = $"{prefix}{i:D7}";
            var serial = $"SN{i:D7}";
            name.Value = thingName;
            id.Value = Guid.NewGuid().ToString();
            type2.Value = typeName is not null && i % 10 == 0 ? typeName : DBNull.Value;
            attributes.Value = $"{{\"serial\":\"{serial}\"}}";
            thing.ExecuteNonQuery();
            attributeThing.Value = thingName;
            attributeValue.Value = serial;
            attribute.ExecuteNonQuery();
        }

        transaction.Commit();
        using var analyze = connection.CreateCommand();
        analyze.CommandText = "ANALYZE";
        analyze.ExecuteNonQuery();
    }
}

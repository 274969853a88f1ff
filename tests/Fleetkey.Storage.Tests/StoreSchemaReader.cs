using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;
using SQLitePCL;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// Reads a migrated store's schema from its database's catalog, not from the migration text: SQLite's
/// <c>pragma_table_list</c>, <c>pragma_table_info</c>, <c>pragma_index_list</c>,
/// <c>pragma_index_xinfo</c>, <c>pragma_foreign_key_list</c> (and <c>sqlite_schema</c> for a partial
/// index's WHERE clause, which no pragma gives; <c>sqlite3_table_column_metadata</c> for a column's
/// collation); PostgreSQL's <c>pg_catalog</c> for the current schema. CHECK constraints are not read:
/// SQLite keeps them only inside the CREATE TABLE text.
/// </summary>
public static partial class StoreSchemaReader
{
    public static async Task<StoreSchema> ReadAsync(TestStore store)
    {
        StoreSchema? schema = null;
        await store.Store.WithConnectionAsync(
            async connection => schema = connection switch
            {
                SqliteConnection => await ReadSqliteAsync(connection),
                NpgsqlConnection => await ReadPostgresAsync(connection),
                _ => throw new NotSupportedException(connection.GetType().Name),
            },
            CancellationToken.None);
        return schema!;
    }

    private static async Task<StoreSchema> ReadSqliteAsync(DbConnection connection)
    {
        var tables = new Dictionary<string, StoreSchema.Table>(StringComparer.Ordinal);
        var names = await QueryAsync(
            connection,
            "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            r => (Name: r.GetString(0), WithoutRowid: r.GetInt64(1) != 0));
        foreach (var (table, withoutRowid) in names)
        {
            var info = await QueryAsync(
                connection,
                "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(@table) ORDER BY cid",
                r => (Name: r.GetString(0), Type: r.GetString(1), NotNull: r.GetInt64(2) != 0, Default: r.IsDBNull(3) ? null : r.GetString(3), Pk: r.GetInt64(4)),
                ("@table", table));
            var primaryKey = info.Where(c => c.Pk > 0).OrderBy(c => c.Pk).Select(c => c.Name).ToList();

            // Only a lone key column declared exactly INTEGER in a rowid table becomes the rowid: SQLite
            // assigns it when a row gives none (or NULL), so it is never NULL, whatever "notnull" says.
            var rowidAlias = !withoutRowid && primaryKey.Count == 1 && info.Single(c => c.Name == primaryKey[0]).Type.Equals("INTEGER", StringComparison.OrdinalIgnoreCase)
                ? primaryKey[0]
                : null;
            var columns = info
                .Select(c => new StoreSchema.Column(c.Name, c.Type + SqliteCollation(connection, table, c.Name), c.NotNull || c.Name == rowidAlias, NormalizeDefault(c.Default), c.Name == rowidAlias))
                .ToList();

            var (uniques, indexes) = await ReadSqliteIndexesAsync(connection, table);
            var foreignKeys = await ReadSqliteForeignKeysAsync(connection, table);
            tables.Add(table, new StoreSchema.Table(table, columns, primaryKey, uniques, indexes, foreignKeys));
        }

        return new StoreSchema("sqlite", tables);
    }

    private static async Task<(List<IReadOnlyList<string>> Uniques, Dictionary<string, StoreSchema.Index> Indexes)> ReadSqliteIndexesAsync(DbConnection connection, string table)
    {
        var uniques = new List<IReadOnlyList<string>>();
        var indexes = new Dictionary<string, StoreSchema.Index>(StringComparer.Ordinal);
        var list = await QueryAsync(
            connection,
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list(@table)",
            r => (Name: r.GetString(0), Unique: r.GetInt64(1) != 0, Origin: r.GetString(2), Partial: r.GetInt64(3) != 0),
            ("@table", table));
        foreach (var index in list)
        {
            // cid -2 is an expression, -1 the rowid.
            var keyColumns = await QueryAsync(
                connection,
                "SELECT CASE WHEN cid = -2 THEN '<expression>' WHEN cid = -1 THEN 'rowid' ELSE name END "
                + "|| CASE WHEN coll IS NULL OR coll = 'BINARY' THEN '' ELSE ' COLLATE ' || coll END || CASE WHEN \"desc\" = 1 THEN ' DESC' ELSE '' END "
                + "FROM pragma_index_xinfo(@index) WHERE key = 1 ORDER BY seqno",
                r => r.GetString(0),
                ("@index", index.Name));
            switch (index.Origin)
            {
                case "pk":
                    // The automatic index of a key that is not the rowid; pragma_table_info gave the key.
                    break;
                case "u":
                    uniques.Add(keyColumns);
                    break;
                default:
                    string? predicate = null;
                    if (index.Partial)
                    {
                        var sql = (await QueryAsync(connection, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = @index", r => r.GetString(0), ("@index", index.Name)))[0];
                        var where = WhereKeyword().Matches(sql)[^1];
                        predicate = NormalizePredicate(sql[(where.Index + where.Length)..]);
                    }

                    indexes.Add(index.Name, new StoreSchema.Index(index.Name, keyColumns, index.Unique, predicate));
                    break;
            }
        }

        return (uniques, indexes);
    }

    private static async Task<List<string>> ReadSqliteForeignKeysAsync(DbConnection connection, string table)
    {
        var foreignKeys = new List<string>();
        var references = await QueryAsync(
            connection,
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(@table) ORDER BY id, seq",
            r => (Id: r.GetInt64(0), Parent: r.GetString(1), From: r.GetString(2), To: r.IsDBNull(3) ? null : r.GetString(3), OnUpdate: r.GetString(4), OnDelete: r.GetString(5)),
            ("@table", table));
        foreach (var reference in references.GroupBy(r => r.Id))
        {
            var first = reference.First();
            var to = reference.Select(r => r.To).ToList();
            if (to.Contains(null))
            {
                // REFERENCES parent without columns: the parent's primary key.
                to = [.. await QueryAsync(connection, "SELECT name FROM pragma_table_info(@table) WHERE pk > 0 ORDER BY pk", r => r.GetString(0), ("@table", first.Parent))];
            }

            foreignKeys.Add(ForeignKey(reference.Select(r => r.From), first.Parent, to!, first.OnDelete, first.OnUpdate));
        }

        return foreignKeys;
    }

    private static async Task<StoreSchema> ReadPostgresAsync(DbConnection connection)
    {
        var tables = new Dictionary<string, StoreSchema.Table>(StringComparer.Ordinal);
        var names = await QueryAsync(
            connection,
            "SELECT c.oid::bigint, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
            r => (Oid: r.GetInt64(0), Name: r.GetString(1)));
        foreach (var (oid, table) in names)
        {
            // attcollation is 0 for a type without collation, 100 ("default") for the database's, 950 for "C".
            var columns = await QueryAsync(
                connection,
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) || coalesce(' COLLATE \"' || co.collname || '\"', ''), a.attnotnull, "
                + "pg_get_expr(d.adbin, d.adrelid), a.attidentity::text "
                + "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum LEFT JOIN pg_collation co ON co.oid = a.attcollation "
                + "WHERE a.attrelid = @oid::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                r =>
                {
                    var defaultValue = r.IsDBNull(3) ? null : r.GetString(3);
                    // An identity column, or a serial one (its default draws from its sequence).
                    var auto = r.GetString(4).Length > 0 || (defaultValue?.StartsWith("nextval(", StringComparison.Ordinal) ?? false);
                    return new StoreSchema.Column(r.GetString(0), r.GetString(1), r.GetBoolean(2), auto ? null : NormalizeDefault(defaultValue), auto);
                },
                ("@oid", oid));

            var constraints = await QueryAsync(
                connection,
                $"SELECT con.contype::text, {ColumnNames("con.conkey", "con.conrelid")}, con.confrelid::regclass::text, {ColumnNames("con.confkey", "con.confrelid")}, "
                + "con.confdeltype::text, con.confupdtype::text "
                + "FROM pg_constraint con WHERE con.conrelid = @oid::oid AND con.contype IN ('p', 'u', 'f') ORDER BY con.conname",
                r => (Type: r.GetString(0), Columns: r.GetFieldValue<string[]>(1), Parent: r.GetString(2), ParentColumns: r.GetFieldValue<string[]>(3), OnDelete: r.GetString(4), OnUpdate: r.GetString(5)),
                ("@oid", oid));
            var primaryKey = constraints.Where(c => c.Type == "p").Select(c => c.Columns).SingleOrDefault() ?? [];
            var uniques = constraints.Where(c => c.Type == "u").Select(c => (IReadOnlyList<string>)c.Columns).ToList();
            var foreignKeys = constraints.Where(c => c.Type == "f")
                .Select(c => ForeignKey(c.Columns, c.Parent, c.ParentColumns, PostgresAction(c.OnDelete), PostgresAction(c.OnUpdate)))
                .ToList();

            // Every index but those behind the primary key and UNIQUE constraints (compared above).
            var indexes = await QueryAsync(
                connection,
                "SELECT i.relname::text, x.indisunique, pg_get_expr(x.indpred, x.indrelid), "
                + "ARRAY(SELECT CASE WHEN k.n = 0 THEN '<expression>' ELSE a.attname::text END "
                + "      || CASE WHEN k.coll = 0 OR co.collname = 'C' THEN '' ELSE ' COLLATE \"' || co.collname || '\"' END || CASE WHEN k.opt & 1 = 1 THEN ' DESC' ELSE '' END "
                + "      FROM unnest(x.indkey::int2[], x.indoption::int2[], x.indcollation::oid[]) WITH ORDINALITY k(n, opt, coll, o) "
                + "      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n LEFT JOIN pg_collation co ON co.oid = k.coll "
                + "      WHERE k.o <= x.indnkeyatts ORDER BY k.o) "
                + "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = @oid::oid AND NOT EXISTS "
                + "(SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))",
                r => new StoreSchema.Index(r.GetString(0), r.GetFieldValue<string[]>(3), r.GetBoolean(1), r.IsDBNull(2) ? null : NormalizePredicate(r.GetString(2))),
                ("@oid", oid));

            tables.Add(table, new StoreSchema.Table(table, columns, primaryKey, uniques, indexes.ToDictionary(i => i.Name, StringComparer.Ordinal), foreignKeys));
        }

        return new StoreSchema("postgres", tables);
    }

    /// <summary>
    /// A column's collation when it is not BINARY (SQLite's default: the UTF-8 bytes compared), as
    /// <c> COLLATE NOCASE</c>. No pragma gives it; sqlite3_table_column_metadata does, from the catalog.
    /// </summary>
    private static string SqliteCollation(DbConnection connection, string table, string column)
    {
        var result = raw.sqlite3_table_column_metadata(((SqliteConnection)connection).Handle, "main", table, column, out _, out var collation, out _, out _, out _);
        if (result != raw.SQLITE_OK)
        {
            throw new InvalidOperationException($"sqlite3_table_column_metadata({table}.{column}) returned {result}.");
        }

        return collation is null or "BINARY" ? string.Empty : " COLLATE " + collation;
    }

    // The names of a constraint's columns (attribute numbers in keys) in key order.
    private static string ColumnNames(string keys, string relation) =>
        $"ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.n ORDER BY k.o)";

    private static string ForeignKey(IEnumerable<string> columns, string parent, IEnumerable<string> parentColumns, string onDelete, string onUpdate) =>
        $"({string.Join(", ", columns)}) → {parent} ({string.Join(", ", parentColumns)}) ON DELETE {onDelete} ON UPDATE {onUpdate}";

    // pg_constraint.confdeltype / confupdtype in SQLite's words.
    private static string PostgresAction(string code) => code switch
    {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => $"<{code}>",
    };

    /// <summary>A default as both catalogs can agree on it: no casts (PostgreSQL adds <c>::text</c>), no enclosing parentheses.</summary>
    private static string? NormalizeDefault(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = Cast().Replace(value.Trim(), string.Empty);
        while (text.Length >= 2 && text[0] == '(' && text[^1] == ')')
        {
            text = text[1..^1].Trim();
        }

        return text;
    }

    private static string NormalizePredicate(string predicate) =>
        Cast().Replace(predicate, string.Empty).Replace("(", string.Empty, StringComparison.Ordinal).Replace(")", string.Empty, StringComparison.Ordinal)
            .Replace(" ", string.Empty, StringComparison.Ordinal).Replace("\n", string.Empty, StringComparison.Ordinal).TrimEnd(';').ToLowerInvariant();

    [GeneratedRegex(@"::(character varying|double precision|[a-z_0-9]+)(\[\])?")]
    private static partial Regex Cast();

    [GeneratedRegex(@"\bWHERE\b", RegexOptions.IgnoreCase)]
    private static partial Regex WhereKeyword();

    private static async Task<List<T>> QueryAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> map, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }
}

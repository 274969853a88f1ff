namespace Fleetkey.Storage.Tests;

/// <summary>
/// A migrated store's schema as its database's catalog describes it (<see cref="StoreSchemaReader"/>),
/// in the dialect's own words: types as declared (SQLite) or as <c>format_type</c> and the collation
/// render them (PostgreSQL). Comparing two dialects needs a mapping between those words
/// (<see cref="MigrationTwinTests"/>).
/// </summary>
public sealed record StoreSchema(string Dialect, IReadOnlyDictionary<string, StoreSchema.Table> Tables)
{
    /// <param name="PrimaryKey">The key's columns in key order; empty when the table has none.</param>
    /// <param name="Uniques">Each UNIQUE constraint (SQLite: a column or table constraint's automatic index) as its columns in order.</param>
    /// <param name="Indexes">Every other index, by name (names are chosen by the migrations, so they must match).</param>
    /// <param name="ForeignKeys">Each foreign key as one line: columns, referenced table and columns, actions.</param>
    public sealed record Table(
        string Name,
        IReadOnlyList<Column> Columns,
        IReadOnlyList<string> PrimaryKey,
        IReadOnlyList<IReadOnlyList<string>> Uniques,
        IReadOnlyDictionary<string, Index> Indexes,
        IReadOnlyList<string> ForeignKeys)
    {
        public Column? Find(string column) => Columns.FirstOrDefault(c => c.Name == column);
    }

    /// <param name="Type">The type in the dialect's words, with the collation where PostgreSQL has one (<c>text COLLATE "C"</c>).</param>
    /// <param name="Default">The default expression without casts or enclosing parentheses (<c>'DEFAULT'::text</c> is <c>'DEFAULT'</c>).</param>
    /// <param name="AutoAssigned">The database numbers new rows itself: SQLite's rowid alias (<c>INTEGER PRIMARY KEY</c>), a PostgreSQL identity or serial.</param>
    public sealed record Column(string Name, string Type, bool NotNull, string? Default, bool AutoAssigned);

    /// <param name="Columns">Key columns in order, <c>DESC</c> after a descending one; <c>&lt;expression&gt;</c> for an expression.</param>
    /// <param name="Predicate">A partial index's WHERE clause, lower case, without spaces or parentheses.</param>
    public sealed record Index(string Name, IReadOnlyList<string> Columns, bool Unique, string? Predicate);
}

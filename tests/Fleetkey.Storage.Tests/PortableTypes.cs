namespace Fleetkey.Storage.Tests;

/// <summary>
/// The column types the migrations use, in each dialect's words (as <see cref="StoreSchemaReader"/>
/// renders them), and the one portable type each stands for. Taken from the migrations as they are:
/// SQLite declares INTEGER, BIGINT, TEXT and BLOB; PostgreSQL bigint, text COLLATE "C" and bytea. A
/// type listed on neither side maps to nothing, so a migration that brings in a new one (REAL, varchar,
/// integer, …) fails the twin test until it is added here on both sides, on purpose.
/// </summary>
public static class PortableTypes
{
    public const string WholeNumber = "int64";
    public const string Text = "text";
    public const string Bytes = "bytes";

    private static readonly Dictionary<string, string> Sqlite = new(StringComparer.OrdinalIgnoreCase)
    {
        // SQLite keeps any integer in up to 8 bytes, whatever the declared name.
        ["INTEGER"] = WholeNumber,
        ["BIGINT"] = WholeNumber,

        // Compared with SQLite's BINARY collation (the UTF-8 bytes); the reader adds " COLLATE X" for
        // any other, which maps to nothing.
        ["TEXT"] = Text,
        ["BLOB"] = Bytes,
    };

    private static readonly Dictionary<string, string> Postgres = new(StringComparer.Ordinal)
    {
        // Not "integer": 32 bits cannot hold the Unix-millisecond instants SQLite's INTEGER holds.
        ["bigint"] = WholeNumber,

        // COLLATE "C" compares the bytes, as SQLite's BINARY does, so ORDER BY, keyset pages and prefix
        // ranges agree between the stores. Text in the database's default collation (en_US.UTF-8 on most
        // servers) sorts by locale, and maps to nothing.
        ["text COLLATE \"C\""] = Text,
        ["bytea"] = Bytes,
    };

    /// <summary>The portable type of a column type in <paramref name="dialect"/>'s words, or null when the mapping has none.</summary>
    public static string? Of(string dialect, string type) => (dialect switch
    {
        "sqlite" => Sqlite,
        "postgres" => Postgres,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, null),
    }).GetValueOrDefault(type);
}

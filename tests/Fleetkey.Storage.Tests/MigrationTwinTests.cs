using System.Text;
using Fleetkey.Storage.Postgres;
using Fleetkey.Storage.Sqlite;
using Xunit;

namespace Fleetkey.Storage.Tests;

/// <summary>
/// The SQLite and PostgreSQL migrations are twins kept by hand (one file pair per version). Migrated
/// side by side by the product's runner (the PostgreSQL database is a copy of the template
/// <see cref="Fleetkey.Testing.TestPostgres"/> migrates with it), the two catalogs must describe one schema:
/// tables, columns, types (through <see cref="PortableTypes"/>), nullability, defaults, keys, UNIQUE
/// constraints, indexes and foreign keys. A difference is either a bug (fixed by a new migration pair:
/// an applied migration is never edited) or a deliberate dialect difference, listed with its reason in
/// <see cref="Deliberate"/>.
/// </summary>
public sealed class MigrationTwinTests
{
    // MigrationRunner creates schema_migrations itself, with one statement for both dialects, before any migration.
    private const string OneRunnerStatement =
        "schema_migrations is made by one CREATE TABLE in MigrationRunner for both dialects, not by a migration pair. ";

    // SQLite lets a PRIMARY KEY column hold NULL unless it is declared NOT NULL too (or is the rowid,
    // INTEGER PRIMARY KEY): an old SQLite bug kept for compatibility. PostgreSQL's key implies NOT NULL.
    private const string SqliteKeyMayBeNull =
        "SQLite's PRIMARY KEY does not imply NOT NULL. No writer sets a key to NULL: the repositories always bind one, and an import "
        + "checks every key column against ImportRules, which allow no null there. Declaring them NOT NULL would take rebuilding each "
        + "table in SQLite (it cannot add NOT NULL to a column), several of them parents of foreign keys. A new table declares its key "
        + "NOT NULL in SQLite: this list names the tables of schemas 1 to 10 only.";

    /// <summary>
    /// The differences that are meant: each line exactly as the test reports it, with why. A listed line
    /// that no longer occurs fails the test too, so the list stays true.
    /// </summary>
    private static readonly Dictionary<string, string> Deliberate = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["schema_migrations.version: type: sqlite INTEGER vs postgres integer (not in PortableTypes: postgres integer)"] =
            OneRunnerStatement + "Versions have four digits, so PostgreSQL's 32-bit integer holds them.",
        ["schema_migrations.version: sqlite assigns new rows' values itself vs postgres does not assign values"] =
            OneRunnerStatement + "INTEGER PRIMARY KEY makes it SQLite's rowid, but the runner always writes the version.",
        ["schema_migrations.name: type: sqlite TEXT vs postgres text COLLATE \"default\" (not in PortableTypes: postgres text COLLATE \"default\")"] =
            OneRunnerStatement + "Nothing orders or compares migration names.",
    }
        .Concat(new[]
        {
            "access_keys.access_key_id", "ca_certificates.certificate_id", "ca_material.id", "certificates.certificate_id",
            "device_attempts.attempt_id", "device_registrations.certificate_id", "device_signatures.signature_hash",
            "enrollment_groups.name", "enrollments.serial_number", "fleet_ownership_tokens.token_hash", "policies.name",
            "provisioning_claims.certificate_id", "provisioning_templates.name", "registration_codes.account_id",
            "thing_groups.name", "thing_types.name", "things.name",
        }.Select(key => KeyValuePair.Create($"{key}: sqlite nullable vs postgres NOT NULL", SqliteKeyMayBeNull)))
        .ToDictionary(StringComparer.Ordinal);

    [Fact]
    public void Migrations_BothDialects_SameVersionsAndNames()
    {
        // An export carries its schema version, which the target's must equal: the dialects move together.
        Assert.Equal(
            SqliteFleetStore.Migrations.Select(m => $"{m.Version:D4}_{m.Name}"),
            PostgresFleetStore.Migrations.Select(m => $"{m.Version:D4}_{m.Name}"));
    }

    [PostgresFact]
    public async Task Migrations_SqliteAndPostgres_DescribeOneSchema()
    {
        await using var sqlite = await TestStores.CreateAsync("sqlite", TimeProvider.System);
        await using var postgres = await TestStores.CreateAsync("postgres", TimeProvider.System);

        var differences = SchemaDifferences.Between(await StoreSchemaReader.ReadAsync(sqlite), await StoreSchemaReader.ReadAsync(postgres));

        var unexplained = differences.Where(d => !Deliberate.ContainsKey(d)).ToList();
        var gone = Deliberate.Keys.Where(d => !differences.Contains(d)).ToList();
        Assert.True(unexplained.Count == 0 && gone.Count == 0, Report(unexplained, gone));
    }

    private static string Report(List<string> unexplained, List<string> gone)
    {
        var message = new StringBuilder();
        if (unexplained.Count > 0)
        {
            message.AppendLine("The SQLite and PostgreSQL migrations describe different schemas:");
            foreach (var difference in unexplained)
            {
                message.Append("  ").AppendLine(difference);
            }

            message.AppendLine(
                "Fix the wrong side with a new migration pair (never edit an applied migration), or, if the difference is meant, "
                + $"add the line with its reason to {nameof(MigrationTwinTests)}.{nameof(Deliberate)}.");
        }

        if (gone.Count > 0)
        {
            message.AppendLine($"Listed in {nameof(MigrationTwinTests)}.{nameof(Deliberate)} but no longer found (remove them):");
            foreach (var difference in gone)
            {
                message.Append("  ").AppendLine(difference);
            }
        }

        return message.ToString();
    }
}

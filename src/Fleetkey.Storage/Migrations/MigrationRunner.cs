using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Fleetkey.Storage.Migrations;

/// <summary>One schema step: applied once, in version order, inside one transaction.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Applies versioned migrations kept as embedded <c>NNNN_name.sql</c> resources of a dialect's
/// assembly. The <c>schema_migrations</c> table records what has run, so a second start changes
/// nothing and a newer binary upgrades an older database in place.
/// </summary>
public static partial class MigrationRunner
{
    [GeneratedRegex(@"\.(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();

    public static IReadOnlyList<Migration> FromResources(Assembly assembly)
    {
        var migrations = new List<Migration>();
        foreach (var name in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(name);
            if (!match.Success)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }

    /// <summary>Applies the pending migrations; returns the versions it applied.</summary>
    public static async Task<IReadOnlyList<int>> ApplyAsync(DbConnection connection, IReadOnlyList<Migration> migrations, long nowUnixMs, CancellationToken cancellationToken)
    {
        await using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var applied = new List<int>();
        foreach (var migration in migrations)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var check = connection.CreateCommand())
            {
                check.Transaction = transaction;
                check.CommandText = $"SELECT 1 FROM schema_migrations WHERE version = {migration.Version}";
                if (await check.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    continue;
                }
            }

            await using (var apply = connection.CreateCommand())
            {
                apply.Transaction = transaction;
                apply.CommandText = migration.Sql;
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)";
                AddParameter(record, "@version", migration.Version);
                AddParameter(record, "@name", migration.Name);
                AddParameter(record, "@at", nowUnixMs);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            applied.Add(migration.Version);
        }

        return applied;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

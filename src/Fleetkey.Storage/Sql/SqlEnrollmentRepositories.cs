using System.Data.Common;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlEnrollmentGroupRepository(SqlSession session) : IEnrollmentGroupRepository
{
    private const string Columns =
        "name, template_name, serial_number_pattern, allow_reprovisioning, enabled, parameters, group_key, group_key_kek_salt, created_at, last_modified_at, region";

    private static EnrollmentGroup Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        SqlValues.NullableString(r, 2),
        r.GetInt64(3) != 0,
        r.GetInt64(4) != 0,
        SqlValues.Map(r, 5),
        SqlValues.Bytes(r, 6)!,
        SqlValues.Bytes(r, 7),
        SqlValues.Instant(r, 8),
        SqlValues.Instant(r, 9),
        SqlValues.NullableString(r, 10));

    public Task<EnrollmentGroup?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM enrollment_groups WHERE name = @name", Map, cancellationToken, ("@name", name));

    public Task InsertAsync(EnrollmentGroup group, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            $"INSERT INTO enrollment_groups ({Columns}) VALUES (@name, @template, @pattern, @reprovision, @enabled, @parameters, @key, @salt, @created, @modified, @region)",
            () => ThrowHelper.AlreadyExists($"Enrollment group {group.Name} already exists.", null, new ResourceRef(ResourceKind.EnrollmentGroup, group.Name)),
            cancellationToken,
            Parameters(group));

    public async Task<bool> UpdateAsync(EnrollmentGroup group, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE enrollment_groups SET template_name = @template, serial_number_pattern = @pattern, allow_reprovisioning = @reprovision, "
            + "enabled = @enabled, parameters = @parameters, last_modified_at = @modified WHERE name = @name",
            cancellationToken,
            Parameters(group)) > 0;

    private static (string, object?)[] Parameters(EnrollmentGroup group) =>
    [
        ("@name", group.Name), ("@template", group.TemplateName), ("@pattern", group.SerialNumberPattern),
        ("@reprovision", group.AllowReprovisioning ? 1 : 0), ("@enabled", group.Enabled ? 1 : 0), ("@parameters", SqlValues.ToJson(group.Parameters)),
        ("@key", SqlValues.ToDb(group.GroupKeyData)), ("@salt", SqlValues.ToDb(group.GroupKeyKekSalt)),
        ("@created", SqlValues.ToDb(group.CreatedAt)), ("@modified", SqlValues.ToDb(group.LastModifiedAt)), ("@region", group.Region),
    ];

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM enrollment_groups WHERE name = @name", cancellationToken, ("@name", name)) > 0;

    public async Task<IReadOnlyList<EnrollmentGroup>> ListAsync(string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(SqlValues.KeysetPage($"SELECT {Columns} FROM enrollment_groups", "name", null, after), Map, cancellationToken, ("@after", after), ("@limit", limit));

    public async Task<IReadOnlyList<EnrollmentGroup>> ListUnsealedAsync(string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(SqlValues.KeysetPage($"SELECT {Columns} FROM enrollment_groups", "name", "group_key_kek_salt IS NULL", after), Map, cancellationToken, ("@after", after), ("@limit", limit));

    public async Task<bool> UpdateKeyAsync(string name, byte[] keyData, byte[]? kekSalt, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE enrollment_groups SET group_key = @key, group_key_kek_salt = @salt WHERE name = @name",
            cancellationToken,
            ("@name", name), ("@key", SqlValues.ToDb(keyData)), ("@salt", SqlValues.ToDb(kekSalt))) > 0;

    public async Task<bool> AnyForTemplateAsync(string templateName, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM enrollment_groups WHERE template_name = @template LIMIT 1", cancellationToken, ("@template", templateName)) is not null;
}

internal sealed class SqlEnrollmentRepository(SqlSession session) : IEnrollmentRepository
{
    private const string Columns =
        "serial_number, template_name, allow_reprovisioning, enabled, parameters, device_secret, device_secret_kek_salt, created_at, last_modified_at, region";

    // Well under PostgreSQL's 65,535 parameters and SQLite's 32,766 per statement.
    private const int RowsPerStatement = 500;

    private static Enrollment Map(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetInt64(2) != 0,
        r.GetInt64(3) != 0,
        SqlValues.Map(r, 4),
        SqlValues.Bytes(r, 5)!,
        SqlValues.Bytes(r, 6),
        SqlValues.Instant(r, 7),
        SqlValues.Instant(r, 8),
        SqlValues.NullableString(r, 9));

    public Task<Enrollment?> GetAsync(string serialNumber, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM enrollments WHERE serial_number = @serial", Map, cancellationToken, ("@serial", serialNumber));

    public Task InsertAsync(Enrollment enrollment, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            $"INSERT INTO enrollments ({Columns}) VALUES (@serial, @template, @reprovision, @enabled, @parameters, @secret, @salt, @created, @modified, @region)",
            () => AlreadyExists(enrollment.SerialNumber),
            cancellationToken,
            Parameters(enrollment, string.Empty));

    public async Task InsertManyAsync(IReadOnlyList<Enrollment> enrollments, CancellationToken cancellationToken)
    {
        foreach (var chunk in enrollments.Chunk(RowsPerStatement))
        {
            var sql = new StringBuilder($"INSERT INTO enrollments ({Columns}) VALUES ");
            var parameters = new List<(string, object?)>(chunk.Length * 10);
            for (var i = 0; i < chunk.Length; i++)
            {
                var p = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sql.Append(i == 0 ? string.Empty : ", ")
                    .Append($"(@serial{p}, @template{p}, @reprovision{p}, @enabled{p}, @parameters{p}, @secret{p}, @salt{p}, @created{p}, @modified{p}, @region{p})");
                parameters.AddRange(Parameters(chunk[i], p));
            }

            await session.InsertUniqueAsync(
                sql.ToString(),
                () => ThrowHelper.AlreadyExists("An enrollment in the batch already exists."),
                cancellationToken,
                [.. parameters]);
        }
    }

    public async Task<IReadOnlyList<Enrollment>> FindManyAsync(IReadOnlyList<string> serialNumbers, CancellationToken cancellationToken)
    {
        var found = new List<Enrollment>();
        foreach (var chunk in serialNumbers.Chunk(RowsPerStatement))
        {
            var names = chunk.Select((_, i) => "@s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            found.AddRange(await session.QueryAsync(
                $"SELECT {Columns} FROM enrollments WHERE serial_number IN ({string.Join(", ", names)})",
                Map,
                cancellationToken,
                [.. names.Zip(chunk, (name, serial) => (name, (object?)serial))]));
        }

        return found;
    }

    public async Task<bool> UpdateAsync(Enrollment enrollment, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE enrollments SET template_name = @template, allow_reprovisioning = @reprovision, enabled = @enabled, parameters = @parameters, "
            + "last_modified_at = @modified WHERE serial_number = @serial",
            cancellationToken,
            Parameters(enrollment, string.Empty)) > 0;

    private static (string, object?)[] Parameters(Enrollment enrollment, string suffix) =>
    [
        ("@serial" + suffix, enrollment.SerialNumber), ("@template" + suffix, enrollment.TemplateName),
        ("@reprovision" + suffix, enrollment.AllowReprovisioning ? 1 : 0), ("@enabled" + suffix, enrollment.Enabled ? 1 : 0),
        ("@parameters" + suffix, SqlValues.ToJson(enrollment.Parameters)),
        ("@secret" + suffix, SqlValues.ToDb(enrollment.SecretData)), ("@salt" + suffix, SqlValues.ToDb(enrollment.SecretKekSalt)),
        ("@created" + suffix, SqlValues.ToDb(enrollment.CreatedAt)), ("@modified" + suffix, SqlValues.ToDb(enrollment.LastModifiedAt)),
        ("@region" + suffix, enrollment.Region),
    ];

    public async Task<bool> DeleteAsync(string serialNumber, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM enrollments WHERE serial_number = @serial", cancellationToken, ("@serial", serialNumber)) > 0;

    public async Task<IReadOnlyList<Enrollment>> ListAsync(string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(SqlValues.KeysetPage($"SELECT {Columns} FROM enrollments", "serial_number", null, after), Map, cancellationToken, ("@after", after), ("@limit", limit));

    public async Task<IReadOnlyList<Enrollment>> ListUnsealedAsync(string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(SqlValues.KeysetPage($"SELECT {Columns} FROM enrollments", "serial_number", "device_secret_kek_salt IS NULL", after), Map, cancellationToken, ("@after", after), ("@limit", limit));

    public async Task<bool> UpdateSecretAsync(string serialNumber, byte[] secretData, byte[]? kekSalt, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "UPDATE enrollments SET device_secret = @secret, device_secret_kek_salt = @salt WHERE serial_number = @serial",
            cancellationToken,
            ("@serial", serialNumber), ("@secret", SqlValues.ToDb(secretData)), ("@salt", SqlValues.ToDb(kekSalt))) > 0;

    public async Task<bool> AnyForTemplateAsync(string templateName, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM enrollments WHERE template_name = @template LIMIT 1", cancellationToken, ("@template", templateName)) is not null;

    private static void AlreadyExists(string serialNumber) =>
        ThrowHelper.AlreadyExists($"An enrollment for serial number {serialNumber} already exists.", null, new ResourceRef(ResourceKind.Enrollment, serialNumber));
}

using System.Data.Common;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

/// <summary>
/// CA certificates (Fleetkey's own issuing CA, marked managed, and those registered by customers) and
/// the account's registration code. Registered CAs are listed as AWS lists them, by creation date.
/// </summary>
internal sealed class SqlCaCertificateRepository(SqlSession session) : ICaCertificateRepository
{
    private const string Columns = "certificate_id, pem, subject, status, auto_registration, managed, not_before, not_after, created_at, last_modified_at, customer_version, generation_id, certificate_mode, template_body, template_name, role_arn";

    private static CaCertificate Map(DbDataReader r)
    {
        var templateBody = SqlValues.NullableString(r, 13);
        var templateName = SqlValues.NullableString(r, 14);
        var roleArn = SqlValues.NullableString(r, 15);
        return new CaCertificate(
            r.GetString(0),
            r.GetString(1),
            r.GetString(2),
            r.GetString(3),
            r.GetString(4),
            r.GetInt64(5) != 0,
            SqlValues.Instant(r, 6),
            SqlValues.Instant(r, 7),
            SqlValues.Instant(r, 8),
            SqlValues.Instant(r, 9),
            r.GetInt64(10),
            r.GetString(11),
            r.GetString(12),
            templateBody is null && templateName is null && roleArn is null ? null : new CaRegistrationConfig(templateBody, templateName, roleArn));
    }

    public Task<CaCertificate?> GetAsync(string certificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM ca_certificates WHERE certificate_id = @id", Map, cancellationToken, ("@id", certificateId));

    public async Task<IReadOnlyList<CaCertificate>> ListAsync(CancellationToken cancellationToken) =>
        await session.QueryAsync($"SELECT {Columns} FROM ca_certificates ORDER BY created_at, certificate_id", Map, cancellationToken);

    public Task InsertAsync(CaCertificate c, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            $"INSERT INTO ca_certificates ({Columns}) VALUES (@id, @pem, @subject, @status, @auto, @managed, @notBefore, @notAfter, @created, @modified, @customerVersion, @generation, @mode, @templateBody, @templateName, @roleArn)",
            () => ThrowHelper.AlreadyExists("The CA certificate is already registered", c.CertificateId, new ResourceRef(ResourceKind.CaCertificate, c.CertificateId)),
            cancellationToken,
            Parameters(c));

    public Task UpdateAsync(CaCertificate c, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE ca_certificates SET status = @status, auto_registration = @auto, last_modified_at = @modified, customer_version = @customerVersion, "
            + "generation_id = @generation, template_body = @templateBody, template_name = @templateName, role_arn = @roleArn WHERE certificate_id = @id",
            cancellationToken,
            Parameters(c));

    private static (string, object?)[] Parameters(CaCertificate c) =>
    [
        ("@id", c.CertificateId), ("@pem", c.Pem), ("@subject", c.Subject), ("@status", c.Status), ("@auto", c.AutoRegistrationStatus),
        ("@managed", c.Managed ? 1 : 0), ("@notBefore", SqlValues.ToDb(c.NotBefore)), ("@notAfter", SqlValues.ToDb(c.NotAfter)),
        ("@created", SqlValues.ToDb(c.CreatedAt)), ("@modified", SqlValues.ToDb(c.LastModifiedAt)), ("@customerVersion", c.CustomerVersion),
        ("@generation", c.GenerationId), ("@mode", c.Mode), ("@templateBody", c.Registration?.TemplateBody),
        ("@templateName", c.Registration?.TemplateName), ("@roleArn", c.Registration?.RoleArn),
    ];

    public async Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM ca_certificates WHERE certificate_id = @id", cancellationToken, ("@id", certificateId)) > 0;

    public async Task<IReadOnlyList<CaCertificate>> ListRegisteredAsync(string? templateName, bool ascending, string? after, int limit, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM ca_certificates WHERE managed = 0");
        if (templateName is not null)
        {
            sql.Append(" AND template_name = @template");
        }

        var (afterCreated, afterId) = CreationKeyset.Append(sql, after, ascending, "certificate_id");
        return await session.QueryAsync(
            sql.ToString(), Map, cancellationToken,
            ("@template", templateName), ("@afterCreated", afterCreated), ("@afterId", afterId), ("@limit", limit));
    }

    public async Task<bool> HasDeviceCertificatesAsync(string certificateId, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM certificates WHERE ca_certificate_id = @id LIMIT 1", cancellationToken, ("@id", certificateId)) is not null;

    public async Task<string?> GetRegistrationCodeAsync(string accountId, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT code FROM registration_codes WHERE account_id = @account", cancellationToken, ("@account", accountId)) as string;

    public async Task<string> EnsureRegistrationCodeAsync(string accountId, string code, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // Two first calls racing (or two nodes) agree on one code: the loser reads the winner's.
        await session.ExecuteAsync(
            "INSERT INTO registration_codes (account_id, code, created_at) VALUES (@account, @code, @at) ON CONFLICT (account_id) DO NOTHING",
            cancellationToken,
            ("@account", accountId), ("@code", code), ("@at", SqlValues.ToDb(at)));
        return (await GetRegistrationCodeAsync(accountId, cancellationToken))!;
    }

    public async Task<bool> DeleteRegistrationCodeAsync(string accountId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM registration_codes WHERE account_id = @account", cancellationToken, ("@account", accountId)) > 0;
}

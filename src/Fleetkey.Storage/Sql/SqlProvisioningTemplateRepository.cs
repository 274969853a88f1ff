using System.Data.Common;
using System.Globalization;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlProvisioningTemplateRepository(SqlSession session) : IProvisioningTemplateRepository
{
    private const string Columns =
        "name, description, enabled, template_type, provisioning_role_arn, hook_target_arn, hook_payload_version, default_version_id, next_version_id, created_at, last_modified_at";

    private const string VersionColumns = "template_name, version_id, body, created_at";

    private static ProvisioningTemplate Map(DbDataReader r) => new(
        r.GetString(0),
        SqlValues.NullableString(r, 1),
        r.GetInt64(2) != 0,
        r.GetString(3),
        r.GetString(4),
        SqlValues.NullableString(r, 5),
        SqlValues.NullableString(r, 6),
        r.GetInt64(7),
        r.GetInt64(8),
        SqlValues.Instant(r, 9),
        SqlValues.Instant(r, 10));

    private static ProvisioningTemplateVersion MapVersion(DbDataReader r) => new(r.GetString(0), r.GetInt64(1), r.GetString(2), SqlValues.Instant(r, 3));

    public Task<ProvisioningTemplate?> GetAsync(string name, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM provisioning_templates WHERE name = @name", Map, cancellationToken, ("@name", name));

    public async Task InsertAsync(ProvisioningTemplate provisioningTemplate, ProvisioningTemplateVersion firstVersion, CancellationToken cancellationToken)
    {
        var template = provisioningTemplate;
        await session.InsertUniqueAsync(
            $"INSERT INTO provisioning_templates ({Columns}) VALUES (@name, @description, @enabled, @type, @role, @hookTarget, @hookVersion, @default, @next, @created, @modified)",
            () => ThrowHelper.AlreadyExists(
                $"A provisioning template with the name {template.Name} already exists.",
                template.Name,
                new ResourceRef(ResourceKind.ProvisioningTemplate, template.Name)),
            cancellationToken,
            Parameters(template));
        await InsertVersionAsync(firstVersion, cancellationToken);
    }

    public Task UpdateAsync(ProvisioningTemplate provisioningTemplate, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE provisioning_templates SET description = @description, enabled = @enabled, template_type = @type, provisioning_role_arn = @role, "
            + "hook_target_arn = @hookTarget, hook_payload_version = @hookVersion, default_version_id = @default, next_version_id = @next, "
            + "created_at = @created, last_modified_at = @modified WHERE name = @name",
            cancellationToken,
            Parameters(provisioningTemplate));

    private static (string, object?)[] Parameters(ProvisioningTemplate t) =>
    [
        ("@name", t.Name), ("@description", t.Description), ("@enabled", t.Enabled ? 1L : 0L), ("@type", t.Type),
        ("@role", t.ProvisioningRoleArn), ("@hookTarget", t.HookTargetArn), ("@hookVersion", t.HookPayloadVersion),
        ("@default", t.DefaultVersionId), ("@next", t.NextVersionId), ("@created", SqlValues.ToDb(t.CreatedAt)),
        ("@modified", SqlValues.ToDb(t.LastModifiedAt)),
    ];

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM provisioning_templates WHERE name = @name", cancellationToken, ("@name", name)) > 0;

    public async Task<IReadOnlyList<ProvisioningTemplate>> ListAsync(string? after, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            $"SELECT {Columns} FROM provisioning_templates"
            + (after is null ? string.Empty : " WHERE name > @after")
            + " ORDER BY name LIMIT @limit",
            Map, cancellationToken, ("@after", after), ("@limit", limit));

    public Task<ProvisioningTemplateVersion?> GetVersionAsync(string templateName, long versionId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"SELECT {VersionColumns} FROM provisioning_template_versions WHERE template_name = @name AND version_id = @version",
            MapVersion, cancellationToken, ("@name", templateName), ("@version", versionId));

    public async Task<IReadOnlyList<ProvisioningTemplateVersion>> ListVersionsAsync(string templateName, long? afterVersionId, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            $"SELECT {VersionColumns} FROM provisioning_template_versions WHERE template_name = @name"
            + (afterVersionId is null ? string.Empty : " AND version_id > @after")
            + " ORDER BY version_id LIMIT @limit",
            MapVersion, cancellationToken, ("@name", templateName), ("@after", afterVersionId), ("@limit", limit));

    public async Task<int> CountVersionsAsync(string templateName, CancellationToken cancellationToken) =>
        Convert.ToInt32(
            await session.ScalarAsync("SELECT COUNT(*) FROM provisioning_template_versions WHERE template_name = @name", cancellationToken, ("@name", templateName)),
            CultureInfo.InvariantCulture);

    public Task InsertVersionAsync(ProvisioningTemplateVersion version, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"INSERT INTO provisioning_template_versions ({VersionColumns}) VALUES (@name, @version, @body, @created)",
            cancellationToken,
            ("@name", version.TemplateName), ("@version", version.VersionId), ("@body", version.Body), ("@created", SqlValues.ToDb(version.CreatedAt)));

    public async Task<bool> DeleteVersionAsync(string templateName, long versionId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM provisioning_template_versions WHERE template_name = @name AND version_id = @version",
            cancellationToken, ("@name", templateName), ("@version", versionId)) > 0;
}

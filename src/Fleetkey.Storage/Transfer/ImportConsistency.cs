using Fleetkey.Storage.Sql;

namespace Fleetkey.Storage.Transfer;

/// <summary>
/// How the rows of different tables must agree, beyond the foreign keys the schema declares: what
/// the services keep true with every change (a policy's default version exists, a group's path is its
/// parent's path and its name, a tag, attachment or enrollment names something that exists). Checked
/// once every row of an import is in (inside its transaction), one query per rule, each naming the
/// first row that breaks it; the SQL runs unchanged on SQLite and PostgreSQL.
/// </summary>
internal static class ImportConsistency
{
    private static readonly (string Rule, string Sql)[] Rules =
    [
        ("thing_groups: the path of group {0} is not its parent's path followed by its name",
            "SELECT c.name FROM thing_groups c LEFT JOIN thing_groups p ON p.name = c.parent_name "
            + "WHERE (c.parent_name IS NULL AND c.path <> c.name) OR (c.parent_name IS NOT NULL AND (p.name IS NULL OR c.path <> p.path || '/' || c.name))"),
        ("thing_principals: thing {0} is attached to a certificate that does not exist",
            "SELECT tp.thing_name || ' / ' || tp.principal_id FROM thing_principals tp "
            + "WHERE NOT EXISTS (SELECT 1 FROM certificates c WHERE c.certificate_id = tp.principal_id)"),
        ("policy_targets: policy {0} is attached to a certificate or thing group that does not exist",
            "SELECT pt.policy_name || ' / ' || pt.target_kind || ' ' || pt.target_id FROM policy_targets pt "
            + "WHERE (pt.target_kind = 'cert' AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.certificate_id = pt.target_id)) "
            + "OR (pt.target_kind = 'thinggroup' AND NOT EXISTS (SELECT 1 FROM thing_groups g WHERE g.name = pt.target_id))"),
        ("policies: policy {0} has no version numbered as its default, or a version not below its next_version_id",
            "SELECT p.name FROM policies p "
            + "WHERE NOT EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_name = p.name AND v.version_id = p.default_version_id) "
            + "OR EXISTS (SELECT 1 FROM policy_versions v WHERE v.policy_name = p.name AND v.version_id >= p.next_version_id)"),
        ("provisioning_templates: template {0} has no version numbered as its default, or a version not below its next_version_id",
            "SELECT t.name FROM provisioning_templates t "
            + "WHERE NOT EXISTS (SELECT 1 FROM provisioning_template_versions v WHERE v.template_name = t.name AND v.version_id = t.default_version_id) "
            + "OR EXISTS (SELECT 1 FROM provisioning_template_versions v WHERE v.template_name = t.name AND v.version_id >= t.next_version_id)"),
        ("tags: {0} is tagged but does not exist",
            "SELECT t.resource_kind || ' ' || t.resource_name FROM tags t WHERE NOT ("
            + "(t.resource_kind = 'thingtype' AND EXISTS (SELECT 1 FROM thing_types x WHERE x.name = t.resource_name)) "
            + "OR (t.resource_kind = 'thinggroup' AND EXISTS (SELECT 1 FROM thing_groups x WHERE x.name = t.resource_name)) "
            + "OR (t.resource_kind = 'policy' AND EXISTS (SELECT 1 FROM policies x WHERE x.name = t.resource_name)) "
            + "OR (t.resource_kind = 'provisioningtemplate' AND EXISTS (SELECT 1 FROM provisioning_templates x WHERE x.name = t.resource_name)) "
            + "OR (t.resource_kind = 'cacert' AND EXISTS (SELECT 1 FROM ca_certificates x WHERE x.certificate_id = t.resource_name AND x.managed = 0)))"),
        ("certificates: certificate {0} names a CA certificate that does not exist",
            "SELECT c.certificate_id FROM certificates c "
            + "WHERE c.ca_certificate_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ca_certificates a WHERE a.certificate_id = c.ca_certificate_id)"),
        ("enrollment_groups: group {0} uses a provisioning template that does not exist",
            "SELECT g.name FROM enrollment_groups g WHERE NOT EXISTS (SELECT 1 FROM provisioning_templates t WHERE t.name = g.template_name)"),
        ("enrollments: serial number {0} uses a provisioning template that does not exist",
            "SELECT e.serial_number FROM enrollments e WHERE NOT EXISTS (SELECT 1 FROM provisioning_templates t WHERE t.name = e.template_name)"),
        ("ca_certificates: more than one CA certificate is marked as Fleetkey's own ({0})",
            "SELECT a.certificate_id FROM ca_certificates a WHERE a.managed = 1 AND EXISTS (SELECT 1 FROM ca_certificates b WHERE b.managed = 1 AND b.certificate_id <> a.certificate_id)"),
    ];

    /// <summary>Adds a sentence for each rule some row breaks.</summary>
    public static async Task CheckAsync(SqlSession session, ICollection<string> problems, CancellationToken cancellationToken)
    {
        foreach (var (rule, sql) in Rules)
        {
            await using var command = session.Command(sql + " LIMIT 1");
            if (await command.ExecuteScalarAsync(cancellationToken) is string offending)
            {
                problems.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, rule, Shorten(offending)));
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

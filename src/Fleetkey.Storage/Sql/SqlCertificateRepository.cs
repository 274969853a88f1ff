using System.Data.Common;
using System.Globalization;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

/// <summary>
/// Certificates are listed by creation date as AWS lists them; the page key is "created_at:id",
/// so a page is a seek on (created_at, certificate_id) in either direction.
/// </summary>
internal sealed class SqlCertificateRepository(SqlSession session) : ICertificateRepository
{
    private const string Columns = "certificate_id, ca_certificate_id, status, pem, certificate_mode, not_before, not_after, created_at, last_modified_at, customer_version, generation_id, serial_number";

    // What a deleted certificate leaves for revocation (see certificate_tombstones): only one of a CA, whose serial is known.
    private const string Tombstone =
        "INSERT INTO certificate_tombstones (certificate_id, ca_certificate_id, serial_number, status, revoked_at, not_after) "
        + "SELECT certificate_id, ca_certificate_id, serial_number, status, last_modified_at, not_after FROM certificates "
        + "WHERE certificate_id = @id AND ca_certificate_id IS NOT NULL AND serial_number IS NOT NULL "
        + "ON CONFLICT (certificate_id) DO UPDATE SET ca_certificate_id = excluded.ca_certificate_id, serial_number = excluded.serial_number, "
        + "status = excluded.status, revoked_at = excluded.revoked_at, not_after = excluded.not_after";

    private static Certificate Map(DbDataReader r) => new(
        r.GetString(0),
        SqlValues.NullableString(r, 1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        SqlValues.Instant(r, 5),
        SqlValues.Instant(r, 6),
        SqlValues.Instant(r, 7),
        SqlValues.Instant(r, 8),
        r.GetInt64(9),
        r.GetString(10),
        SqlValues.NullableString(r, 11));

    public Task<Certificate?> GetAsync(string certificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM certificates WHERE certificate_id = @id", Map, cancellationToken, ("@id", certificateId));

    public Task InsertAsync(Certificate certificate, CancellationToken cancellationToken) =>
        session.InsertUniqueAsync(
            $"INSERT INTO certificates ({Columns}) VALUES (@id, @ca, @status, @pem, @mode, @notBefore, @notAfter, @created, @modified, @customerVersion, @generation, @serial)",
            () => ThrowHelper.AlreadyExists("The certificate is already provisioned or registered", certificate.CertificateId, new ResourceRef(ResourceKind.Certificate, certificate.CertificateId)),
            cancellationToken,
            Parameters(certificate));

    public Task UpdateAsync(Certificate certificate, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE certificates SET status = @status, last_modified_at = @modified, customer_version = @customerVersion, generation_id = @generation WHERE certificate_id = @id",
            cancellationToken,
            Parameters(certificate));

    private static (string, object?)[] Parameters(Certificate c) =>
    [
        ("@id", c.CertificateId), ("@ca", c.CaCertificateId), ("@status", c.Status), ("@pem", c.Pem), ("@mode", c.Mode),
        ("@notBefore", SqlValues.ToDb(c.NotBefore)), ("@notAfter", SqlValues.ToDb(c.NotAfter)), ("@created", SqlValues.ToDb(c.CreatedAt)),
        ("@modified", SqlValues.ToDb(c.LastModifiedAt)), ("@customerVersion", c.CustomerVersion), ("@generation", c.GenerationId),
        ("@serial", c.SerialNumber),
    ];

    public async Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync(Tombstone, cancellationToken, ("@id", certificateId));
        return await session.ExecuteAsync("DELETE FROM certificates WHERE certificate_id = @id", cancellationToken, ("@id", certificateId)) > 0;
    }

    public async Task<IReadOnlyList<Certificate>> ListAsync(string? caCertificateId, bool ascending, string? after, int limit, CancellationToken cancellationToken)
    {
        // Temporary claim certificates (CreateProvisioningClaim) are not listed, as on AWS.
        var sql = new StringBuilder($"SELECT {Columns} FROM certificates WHERE NOT EXISTS (SELECT 1 FROM provisioning_claims WHERE provisioning_claims.certificate_id = certificates.certificate_id)");
        if (caCertificateId is not null)
        {
            sql.Append(" AND ca_certificate_id = @ca");
        }

        var (afterCreated, afterId) = CreationKeyset.Append(sql, after, ascending, "certificate_id");
        return await session.QueryAsync(
            sql.ToString(), Map, cancellationToken,
            ("@ca", caCertificateId), ("@afterCreated", afterCreated), ("@afterId", afterId), ("@limit", limit));
    }

    public async Task<IReadOnlyList<ExpiringCertificate>> ListExpiringAsync(ExpiryRange range, string? after, int limit, CancellationToken cancellationToken)
    {
        var (sql, parameters) = ExpiringQuery(range, after, limit);
        var rows = await session.QueryAsync(
            sql,
            r => (Id: r.GetString(0), Status: r.GetString(1), NotAfter: SqlValues.Instant(r, 2), Ca: SqlValues.NullableString(r, 3)),
            cancellationToken,
            parameters);
        if (rows.Count == 0)
        {
            return [];
        }

        // The page's attachments in one statement, from the (principal_kind, principal_id, thing_name) index.
        var names = rows.Select((_, i) => "@c" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var attached = await session.QueryAsync(
            $"SELECT principal_id, thing_name FROM thing_principals WHERE principal_kind = 'cert' AND principal_id IN ({string.Join(", ", names)}) ORDER BY principal_id, thing_name",
            r => (CertificateId: r.GetString(0), ThingName: r.GetString(1)),
            cancellationToken,
            [.. names.Zip(rows, (name, row) => (name, (object?)row.Id))]);
        var things = attached.ToLookup(a => a.CertificateId, a => a.ThingName, StringComparer.Ordinal);
        return [.. rows.Select(row => new ExpiringCertificate(row.Id, row.Status, row.NotAfter, row.Ca, [.. things[row.Id]]))];
    }

    public async Task<long> CountExpiringAsync(ExpiryRange range, CancellationToken cancellationToken)
    {
        var (sql, parameters) = CountQuery(range);
        return Convert.ToInt64(await session.ScalarAsync(sql, cancellationToken, parameters), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A page of <see cref="ListExpiringAsync"/>: a range scan of ix_certificates_not_after in its order,
    /// resumed from the page key with a row-value comparison both databases seek on.
    /// </summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) ExpiringQuery(ExpiryRange range, string? after, int limit)
    {
        var sql = new StringBuilder("SELECT certificate_id, status, not_after, ca_certificate_id FROM certificates");
        var parameters = new List<(string Name, object? Value)>();
        AppendRange(sql, parameters, range);
        if (after is not null)
        {
            var (afterNotAfter, afterId) = CreationKeyset.Parse(after, "nextToken");
            sql.Append(" AND (not_after, certificate_id) > (@afterNotAfter, @afterId)");
            parameters.Add(("@afterNotAfter", afterNotAfter));
            parameters.Add(("@afterId", afterId));
        }

        sql.Append(" ORDER BY not_after, certificate_id LIMIT @limit");
        parameters.Add(("@limit", limit));
        return (sql.ToString(), [.. parameters]);
    }

    /// <summary>The count of <see cref="CountExpiringAsync"/>: the same range of the not-after index.</summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) CountQuery(ExpiryRange range)
    {
        var sql = new StringBuilder("SELECT COUNT(*) FROM certificates");
        var parameters = new List<(string Name, object? Value)>();
        AppendRange(sql, parameters, range);
        return (sql.ToString(), [.. parameters]);
    }

    private static void AppendRange(StringBuilder sql, List<(string Name, object? Value)> parameters, ExpiryRange range)
    {
        if (range.Statuses.Count == 0)
        {
            throw new ArgumentException("An expiry range names at least one status.", nameof(range));
        }

        sql.Append(" WHERE not_after < @before");
        parameters.Add(("@before", SqlValues.ToDb(range.Before)));
        if (range.From is { } from)
        {
            sql.Append(" AND not_after >= @from");
            parameters.Add(("@from", SqlValues.ToDb(from)));
        }

        sql.Append(" AND status IN (");
        for (var i = 0; i < range.Statuses.Count; i++)
        {
            var name = "@s" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? string.Empty : ", ").Append(name);
            parameters.Add((name, range.Statuses[i]));
        }

        // Temporary claim certificates (CreateProvisioningClaim) are no device's identity: not listed, not counted.
        sql.Append(") AND NOT EXISTS (SELECT 1 FROM provisioning_claims WHERE provisioning_claims.certificate_id = certificates.certificate_id)");
    }
}

/// <summary>
/// Keyset paging by creation date for what AWS lists in creation order: the key is
/// <see cref="Paging.CreationKey"/>, and the id breaks ties between equal instants.
/// </summary>
internal static class CreationKeyset
{
    /// <summary>Appends the seek predicate (if any) and the ORDER BY/LIMIT clause; returns the parameter values.</summary>
    public static (long AfterCreated, string? AfterId) Append(StringBuilder sql, string? after, bool ascending, string idColumn)
    {
        long afterCreated = 0;
        string? afterId = null;
        if (after is not null)
        {
            (afterCreated, afterId) = Parse(after, "marker");
            var op = ascending ? ">" : "<";
            sql.Append($" AND (created_at {op} @afterCreated OR (created_at = @afterCreated AND {idColumn} {op} @afterId))");
        }

        var direction = ascending ? "ASC" : "DESC";
        sql.Append($" ORDER BY created_at {direction}, {idColumn} {direction} LIMIT @limit");
        return (afterCreated, afterId);
    }

    /// <summary>
    /// Splits a "unix-ms:id" page key (<see cref="Paging.CreationKey"/>, <see cref="Paging.ExpiryKey"/>); a key
    /// that is not one is an InvalidRequest naming <paramref name="field"/>. A not-after may precede 1970.
    /// </summary>
    public static (long Instant, string Id) Parse(string key, string field)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(key.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var instant))
        {
            ThrowHelper.InvalidRequest($"The {field} is not valid: it was not returned by a previous call.");
            return default;
        }

        return (instant, key[(colon + 1)..]);
    }
}

internal sealed class SqlThingPrincipalRepository(SqlSession session) : IThingPrincipalRepository
{
    private static ThingPrincipal Map(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3));

    public async Task<bool> AttachAsync(ThingPrincipal principal, DateTimeOffset at, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "INSERT INTO thing_principals (thing_name, principal_kind, principal_id, principal_type, attached_at) VALUES (@thing, @kind, @id, @type, @at) "
            + "ON CONFLICT (thing_name, principal_kind, principal_id) DO UPDATE SET principal_type = excluded.principal_type WHERE thing_principals.principal_type <> excluded.principal_type",
            cancellationToken,
            ("@thing", principal.ThingName), ("@kind", principal.PrincipalKind), ("@id", principal.PrincipalId), ("@type", principal.PrincipalType), ("@at", SqlValues.ToDb(at))) > 0;

    public async Task<bool> DetachAsync(string thingName, string principalKind, string principalId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            "DELETE FROM thing_principals WHERE thing_name = @thing AND principal_kind = @kind AND principal_id = @id",
            cancellationToken,
            ("@thing", thingName), ("@kind", principalKind), ("@id", principalId)) > 0;

    public async Task<IReadOnlyList<ThingPrincipal>> ListForThingAsync(string thingName, string? afterPrincipalId, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT thing_name, principal_kind, principal_id, principal_type FROM thing_principals WHERE thing_name = @thing"
            + (afterPrincipalId is null ? string.Empty : " AND principal_id > @after")
            + " ORDER BY principal_id LIMIT @limit",
            Map, cancellationToken,
            ("@thing", thingName), ("@after", afterPrincipalId), ("@limit", limit));

    public async Task<IReadOnlyList<ThingPrincipal>> ListForPrincipalAsync(string principalKind, string principalId, string? afterThingName, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT thing_name, principal_kind, principal_id, principal_type FROM thing_principals WHERE principal_kind = @kind AND principal_id = @id"
            + (afterThingName is null ? string.Empty : " AND thing_name > @after")
            + " ORDER BY thing_name LIMIT @limit",
            Map, cancellationToken,
            ("@kind", principalKind), ("@id", principalId), ("@after", afterThingName), ("@limit", limit));

    public async Task<bool> ThingHasAnyAsync(string thingName, CancellationToken cancellationToken) =>
        await session.ScalarAsync("SELECT 1 FROM thing_principals WHERE thing_name = @thing LIMIT 1", cancellationToken, ("@thing", thingName)) is not null;
}

using System.Data.Common;
using System.Globalization;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlRevocationRepository(SqlSession session) : IRevocationRepository
{
    // Spelled out rather than "<> 'ACTIVE'", so that ix_certificates_ca_status seeks each status.
    private const string NotActive = "('" + CertificateStatus.Inactive + "', '" + CertificateStatus.Revoked + "', '" + CertificateStatus.PendingTransfer
        + "', '" + CertificateStatus.RegisterInactive + "', '" + CertificateStatus.PendingActivation + "')";

    private const string StoredColumns = "certificate_id, serial_number, status, last_modified_at, not_after";
    private const string TombstoneColumns = "certificate_id, serial_number, status, revoked_at, not_after";

    private static RevocationRecord Stored(DbDataReader r) => Map(r, deleted: false);

    private static RevocationRecord Deleted(DbDataReader r) => Map(r, deleted: true);

    private static RevocationRecord Map(DbDataReader r, bool deleted) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), SqlValues.Instant(r, 3), SqlValues.Instant(r, 4), deleted);

    public async Task<RevocationRecord?> FindAsync(string caCertificateId, string serialNumber, CancellationToken cancellationToken) =>
        await session.QuerySingleAsync(
            $"SELECT {StoredColumns} FROM certificates WHERE serial_number = @serial AND ca_certificate_id = @ca",
            Stored, cancellationToken, ("@serial", serialNumber), ("@ca", caCertificateId))
        ?? await session.QuerySingleAsync(
            $"SELECT {TombstoneColumns} FROM certificate_tombstones WHERE serial_number = @serial AND ca_certificate_id = @ca",
            Deleted, cancellationToken, ("@serial", serialNumber), ("@ca", caCertificateId));

    public async Task<IReadOnlyList<RevocationRecord>> ListNotActiveAsync(string caCertificateId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var parameters = new (string, object?)[] { ("@ca", caCertificateId), ("@at", SqlValues.ToDb(at)) };
        var stored = await session.QueryAsync(
            $"SELECT {StoredColumns} FROM certificates WHERE ca_certificate_id = @ca AND status IN {NotActive} AND not_after > @at AND serial_number IS NOT NULL",
            Stored, cancellationToken, parameters);
        var deleted = await session.QueryAsync(
            $"SELECT {TombstoneColumns} FROM certificate_tombstones t WHERE ca_certificate_id = @ca AND not_after > @at "
            + "AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.certificate_id = t.certificate_id)",
            Deleted, cancellationToken, parameters);
        stored.AddRange(deleted);
        stored.Sort((a, b) => string.CompareOrdinal(a.SerialNumber, b.SerialNumber));
        return stored;
    }

    public async Task<long> NextCrlNumberAsync(string caCertificateId, long atLeast, CancellationToken cancellationToken)
    {
        var value = await session.ScalarAsync(
            "INSERT INTO crl_numbers (ca_certificate_id, crl_number) VALUES (@ca, @atLeast) "
            + "ON CONFLICT (ca_certificate_id) DO UPDATE SET crl_number = CASE WHEN crl_numbers.crl_number + 1 > excluded.crl_number "
            + "THEN crl_numbers.crl_number + 1 ELSE excluded.crl_number END RETURNING crl_number",
            cancellationToken,
            ("@ca", caCertificateId), ("@atLeast", atLeast));
        return Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    public Task<int> PruneTombstonesAsync(DateTimeOffset at, CancellationToken cancellationToken) =>
        session.ExecuteAsync("DELETE FROM certificate_tombstones WHERE not_after <= @at", cancellationToken, ("@at", SqlValues.ToDb(at)));

    public async Task<IReadOnlyList<(string CertificateId, string Pem)>> ListWithoutSerialNumberAsync(int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            "SELECT certificate_id, pem FROM certificates WHERE serial_number IS NULL ORDER BY certificate_id LIMIT @limit",
            r => (r.GetString(0), r.GetString(1)), cancellationToken, ("@limit", limit));

    public Task SetSerialNumberAsync(string certificateId, string serialNumber, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            "UPDATE certificates SET serial_number = @serial WHERE certificate_id = @id", cancellationToken, ("@serial", serialNumber), ("@id", certificateId));
}

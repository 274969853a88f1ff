using System.Data.Common;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlCertificateRenewalRepository(SqlSession session) : ICertificateRenewalRepository
{
    private const string Columns = "old_certificate_id, new_certificate_id, renewed_at, deactivate_at";

    private static CertificateRenewal Map(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), SqlValues.Instant(r, 2), SqlValues.Instant(r, 3));

    // ON CONFLICT rather than catching the unique violation: on PostgreSQL an error ends the transaction.
    public async Task<bool> InsertAsync(CertificateRenewal renewal, CancellationToken cancellationToken) =>
        await session.ExecuteAsync(
            $"INSERT INTO certificate_renewals ({Columns}) VALUES (@old, @new, @renewed, @deactivate) ON CONFLICT DO NOTHING",
            cancellationToken,
            ("@old", renewal.OldCertificateId), ("@new", renewal.NewCertificateId),
            ("@renewed", SqlValues.ToDb(renewal.RenewedAt)), ("@deactivate", SqlValues.ToDb(renewal.DeactivateAt))) == 1;

    public Task<CertificateRenewal?> FindByNewAsync(string newCertificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM certificate_renewals WHERE new_certificate_id = @new", Map, cancellationToken, ("@new", newCertificateId));

    public Task<CertificateRenewal?> FindByOldAsync(string oldCertificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync($"SELECT {Columns} FROM certificate_renewals WHERE old_certificate_id = @old", Map, cancellationToken, ("@old", oldCertificateId));

    public async Task<IReadOnlyList<CertificateRenewal>> ListDueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            $"SELECT {Columns} FROM certificate_renewals WHERE deactivate_at <= @now ORDER BY deactivate_at, old_certificate_id LIMIT @limit",
            Map, cancellationToken, ("@now", SqlValues.ToDb(now)), ("@limit", (long)limit));

    public async Task<bool> DeleteAsync(string oldCertificateId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM certificate_renewals WHERE old_certificate_id = @old", cancellationToken, ("@old", oldCertificateId)) == 1;
}

using System.Data.Common;

namespace Fleetkey.Storage.Sql;

internal sealed class SqlFleetProvisioningRepository(SqlSession session) : IFleetProvisioningRepository
{
    private const string TokenColumns = "token_hash, certificate_id, claim_certificate_id, client_id, created_at, expires_at";
    private const string ClaimColumns = "certificate_id, template_name, created_at, expires_at";

    private static OwnershipToken MapToken(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), SqlValues.Instant(r, 4), SqlValues.Instant(r, 5));

    private static ProvisioningClaim MapClaim(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), SqlValues.Instant(r, 2), SqlValues.Instant(r, 3));

    public Task InsertTokenAsync(OwnershipToken token, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"INSERT INTO fleet_ownership_tokens ({TokenColumns}) VALUES (@hash, @certificate, @claim, @client, @created, @expires)",
            cancellationToken,
            ("@hash", token.TokenHash), ("@certificate", token.CertificateId), ("@claim", token.ClaimCertificateId), ("@client", token.ClientId),
            ("@created", SqlValues.ToDb(token.CreatedAt)), ("@expires", SqlValues.ToDb(token.ExpiresAt)));

    public Task<OwnershipToken?> GetTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"SELECT {TokenColumns} FROM fleet_ownership_tokens WHERE token_hash = @hash",
            MapToken, cancellationToken, ("@hash", tokenHash));

    // DELETE … RETURNING: the row goes to exactly one taker, whichever node it runs on.
    public Task<OwnershipToken?> TakeTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"DELETE FROM fleet_ownership_tokens WHERE token_hash = @hash RETURNING {TokenColumns}",
            MapToken, cancellationToken, ("@hash", tokenHash));

    public async Task<IReadOnlyList<OwnershipToken>> ListExpiredTokensAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            $"SELECT {TokenColumns} FROM fleet_ownership_tokens WHERE expires_at < @now ORDER BY expires_at, token_hash LIMIT @limit",
            MapToken, cancellationToken, ("@now", SqlValues.ToDb(now)), ("@limit", limit));

    public async Task<bool> DeleteTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM fleet_ownership_tokens WHERE token_hash = @hash", cancellationToken, ("@hash", tokenHash)) == 1;

    public Task InsertClaimAsync(ProvisioningClaim claim, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"INSERT INTO provisioning_claims ({ClaimColumns}) VALUES (@certificate, @template, @created, @expires)",
            cancellationToken,
            ("@certificate", claim.CertificateId), ("@template", claim.TemplateName),
            ("@created", SqlValues.ToDb(claim.CreatedAt)), ("@expires", SqlValues.ToDb(claim.ExpiresAt)));

    public Task<ProvisioningClaim?> GetClaimAsync(string certificateId, CancellationToken cancellationToken) =>
        session.QuerySingleAsync(
            $"SELECT {ClaimColumns} FROM provisioning_claims WHERE certificate_id = @certificate",
            MapClaim, cancellationToken, ("@certificate", certificateId));

    public async Task<IReadOnlyList<ProvisioningClaim>> ListExpiredClaimsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        await session.QueryAsync(
            $"SELECT {ClaimColumns} FROM provisioning_claims WHERE expires_at < @now ORDER BY expires_at, certificate_id LIMIT @limit",
            MapClaim, cancellationToken, ("@now", SqlValues.ToDb(now)), ("@limit", limit));

    public async Task<bool> DeleteClaimAsync(string certificateId, CancellationToken cancellationToken) =>
        await session.ExecuteAsync("DELETE FROM provisioning_claims WHERE certificate_id = @certificate", cancellationToken, ("@certificate", certificateId)) == 1;
}

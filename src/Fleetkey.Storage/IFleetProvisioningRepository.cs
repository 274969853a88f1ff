namespace Fleetkey.Storage;

/// <summary>Fleet provisioning by claim: ownership tokens (single use) and temporary claim certificates.</summary>
public interface IFleetProvisioningRepository
{
    Task InsertTokenAsync(OwnershipToken token, CancellationToken cancellationToken);

    Task<OwnershipToken?> GetTokenAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the token and returns it: a token is returned once, also across nodes; null when it is
    /// unknown or was already taken.
    /// </summary>
    Task<OwnershipToken?> TakeTokenAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Tokens that expired before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<OwnershipToken>> ListExpiredTokensAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    Task<bool> DeleteTokenAsync(string tokenHash, CancellationToken cancellationToken);

    Task InsertClaimAsync(ProvisioningClaim claim, CancellationToken cancellationToken);

    Task<ProvisioningClaim?> GetClaimAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Claims that expired before <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<ProvisioningClaim>> ListExpiredClaimsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    Task<bool> DeleteClaimAsync(string certificateId, CancellationToken cancellationToken);
}

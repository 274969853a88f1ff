using Fleetkey.Core.Paging;
using Fleetkey.Core.Registry;

namespace Fleetkey.Storage;

/// <summary>
/// The store behind the application layer. Every unit of work runs in one database transaction:
/// <see cref="WriteAsync{T}"/> commits when the delegate returns and rolls back when it throws. The
/// delegate may run more than once when the database asks for a retry (serialization failures on
/// PostgreSQL), so it must not have effects outside the session.
/// </summary>
public interface IFleetStore
{
    Task<T> ReadAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    Task<T> WriteAsync<T>(Func<IStoreSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// A number that changes whenever anything is committed to the store, by this process or another
    /// (the CLI, another node), so that a caller may keep what it read until it changes; null when the
    /// store cannot tell cheaply (then nothing may be kept).
    /// </summary>
    /// <remarks>
    /// Commits of this process show at the next call. A store may read the stamp from the database at
    /// most every few milliseconds and then show another process's commit that much later: SQLite
    /// shows it at once, PostgreSQL within <c>PostgresFleetStore.ChangeStampInterval</c> (100 ms).
    /// </remarks>
    ValueTask<long?> ChangeStampAsync(CancellationToken cancellationToken) => ValueTask.FromResult<long?>(null);
}

/// <summary>One open transaction and the repositories that work inside it.</summary>
public interface IStoreSession
{
    IThingRepository Things { get; }

    IThingTypeRepository ThingTypes { get; }

    IThingGroupRepository ThingGroups { get; }

    ITagRepository Tags { get; }

    IAccessKeyRepository AccessKeys { get; }

    ICertificateRepository Certificates { get; }

    ICaCertificateRepository CaCertificates { get; }

    IThingPrincipalRepository ThingPrincipals { get; }

    IPolicyRepository Policies { get; }

    ICaMaterialRepository CaMaterial { get; }

    IDeviceKeyPoolRepository DeviceKeyPool { get; }

    IDeviceEndpointRepository DeviceEndpoint { get; }

    IProvisioningTemplateRepository ProvisioningTemplates { get; }

    IEnrollmentGroupRepository EnrollmentGroups { get; }

    IEnrollmentRepository Enrollments { get; }

    IFleetProvisioningRepository FleetProvisioning { get; }
}

/// <summary>
/// A certificateOwnershipToken as stored: the SHA-256 of the token (never the token), the certificate it
/// owns, and the claim connection it was given to (its certificate and client id).
/// </summary>
public sealed record OwnershipToken(string TokenHash, string CertificateId, string ClaimCertificateId, string ClientId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>A temporary claim certificate of CreateProvisioningClaim and the template it provisions with.</summary>
public sealed record ProvisioningClaim(string CertificateId, string TemplateName, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

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

/// <summary>
/// One request to the device endpoint, as the audit log keeps it (never a signature or a secret).
/// <see cref="SerialNumber"/> is what the request claimed; <see cref="Authenticated"/> says whether its
/// signature verified for that serial number (only those attempts count against the serial's rate).
/// </summary>
public sealed record DeviceAttempt(
    Guid AttemptId,
    DateTimeOffset AttemptedAt,
    string? SerialNumber,
    string SourceAddress,
    string Outcome,
    string? Reason,
    string? CertificateId,
    bool Authenticated = false);

/// <summary>A certificate the device endpoint issued to a serial number, and when it first connected (null: never).</summary>
public sealed record DeviceRegistration(string CertificateId, string SerialNumber, DateTimeOffset RegisteredAt, DateTimeOffset? FirstConnectedAt);

/// <summary>How many attempts fall in a rate window, and when the oldest of them was made.</summary>
public sealed record AttemptWindow(int Count, DateTimeOffset? Oldest);

/// <summary>The device endpoint's state: used signatures (replay), issued certificates and the audit log.</summary>
public interface IDeviceEndpointRepository
{
    /// <summary>Whether a signature (by its replay key) was already accepted.</summary>
    Task<bool> IsSignatureUsedAsync(string signatureHash, CancellationToken cancellationToken);

    /// <summary>
    /// Records a signature as used until <paramref name="expiresAt"/>; false when it already was (by
    /// this node or another: the key is unique in the database).
    /// </summary>
    Task<bool> TryUseSignatureAsync(string signatureHash, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Deletes the signatures that expired before <paramref name="now"/>.</summary>
    Task<int> PruneSignaturesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    Task InsertRegistrationAsync(DeviceRegistration registration, CancellationToken cancellationToken);

    /// <summary>The serial's most recent registration, or null.</summary>
    Task<DeviceRegistration?> GetLatestRegistrationAsync(string serialNumber, CancellationToken cancellationToken);

    Task<DeviceRegistration?> GetRegistrationAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Sets the first connection time of a certificate the endpoint issued, once; false when unknown or already set.</summary>
    Task<bool> RecordConnectionAsync(string certificateId, DateTimeOffset at, CancellationToken cancellationToken);

    Task InsertAttemptAsync(DeviceAttempt attempt, CancellationToken cancellationToken);

    /// <summary>Sets the outcome of an attempt recorded when it started.</summary>
    Task UpdateAttemptAsync(Guid attemptId, string outcome, string? reason, string? certificateId, CancellationToken cancellationToken);

    /// <summary>Marks an attempt as authenticated: from then on it counts against its serial number's rate.</summary>
    Task MarkAuthenticatedAsync(Guid attemptId, CancellationToken cancellationToken);

    /// <summary>Authenticated attempts for a serial after an instant (unauthenticated ones never count against a serial).</summary>
    Task<AttemptWindow> CountAuthenticatedAttemptsAsync(string serialNumber, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>Attempts from a source address after an instant, not counting those with outcome <paramref name="excludedOutcome"/>.</summary>
    Task<AttemptWindow> CountAddressAttemptsAsync(string sourceAddress, DateTimeOffset since, string excludedOutcome, CancellationToken cancellationToken);

    /// <summary>The audit log, oldest first, optionally of one serial.</summary>
    Task<IReadOnlyList<DeviceAttempt>> ListAttemptsAsync(string? serialNumber, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes audit rows made before <paramref name="before"/>.</summary>
    Task<int> PruneAttemptsAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>
/// A pre-generated device private key as stored: PKCS#8 DER in <see cref="KeyData"/>, sealed (not
/// plaintext) when <see cref="KekSalt"/> is set. The store never looks inside.
/// </summary>
public sealed record StoredPooledKey(string Algorithm, byte[] KeyData, byte[]? KekSalt);

/// <summary>The pool of device keys generated ahead of demand. Every key is handed out once.</summary>
public interface IDeviceKeyPoolRepository
{
    Task AddAsync(IReadOnlyList<StoredPooledKey> keys, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Removes up to <paramref name="count"/> keys of the algorithm, oldest first, and returns them:
    /// a key returned here is never returned again, also to another node on the same database.
    /// </summary>
    Task<IReadOnlyList<StoredPooledKey>> TakeAsync(string algorithm, int count, CancellationToken cancellationToken);

    Task<int> CountAsync(string algorithm, CancellationToken cancellationToken);

    /// <summary>Deletes the keys stored in the clear (once a passphrase is configured they must not stay at rest).</summary>
    Task<int> DeleteUnsealedAsync(CancellationToken cancellationToken);
}

/// <summary>The CA material row: PEM certificates and keys, as the PKI stores them.</summary>
public sealed record StoredCaMaterial(string RootCertificatePem, string RootKeyPem, string IssuingCertificatePem, string IssuingKeyPem, bool KeysEncrypted);

public interface ICaMaterialRepository
{
    Task<StoredCaMaterial?> GetAsync(CancellationToken cancellationToken);

    /// <summary>Stores the material unless another node already did; returns false when it lost that race.</summary>
    Task<bool> TryInsertAsync(StoredCaMaterial material, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Replaces the keys of the stored CA (same certificates), e.g. once they are encrypted.</summary>
    Task<bool> UpdateKeysAsync(StoredCaMaterial material, CancellationToken cancellationToken);
}

public interface IThingRepository
{
    Task<Thing?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a new thing; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts a new thing unless its name is taken (then changes nothing and returns false), without
    /// reading first: on PostgreSQL a read of an absent name locks (SERIALIZABLE) the index page every
    /// concurrent registration of a neighbouring name writes to.
    /// </summary>
    Task<bool> TryInsertAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>Replaces type, attributes and version of an existing thing.</summary>
    Task UpdateAsync(Thing thing, CancellationToken cancellationToken);

    /// <summary>Deletes a thing with its attributes and group memberships.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<Thing>> ListAsync(ThingQuery query, string? after, int limit, CancellationToken cancellationToken);

    Task<bool> AnyOfTypeAsync(string typeName, CancellationToken cancellationToken);
}

public interface IThingTypeRepository
{
    Task<ThingType?> GetAsync(string name, CancellationToken cancellationToken);

    Task InsertAsync(ThingType type, CancellationToken cancellationToken);

    Task UpdateAsync(ThingType type, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingType>> ListAsync(string? name, string? after, int limit, CancellationToken cancellationToken);
}

public interface IThingGroupRepository
{
    Task<ThingGroup?> GetAsync(string name, CancellationToken cancellationToken);

    Task InsertAsync(ThingGroup group, CancellationToken cancellationToken);

    Task UpdateAsync(ThingGroup group, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    Task<bool> HasChildrenAsync(string name, CancellationToken cancellationToken);

    /// <param name="parent">Only children (or, with <paramref name="recursive"/>, descendants) of this group.</param>
    Task<IReadOnlyList<ThingGroup>> ListAsync(ThingGroup? parent, bool recursive, string? namePrefix, string? after, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingGroup>> ListForThingAsync(string thingName, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Adds a membership; returns false when the thing already was a member.</summary>
    Task<bool> AddThingAsync(string groupName, string thingName, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> RemoveThingAsync(string groupName, string thingName, CancellationToken cancellationToken);

    /// <summary>Names of things in the group (or in it and its descendants), ordered, after the key.</summary>
    Task<IReadOnlyList<string>> ListThingNamesAsync(ThingGroup group, bool recursive, string? after, int limit, CancellationToken cancellationToken);
}

public interface ITagRepository
{
    Task<IReadOnlyList<Tag>> ListAsync(string resourceKind, string resourceName, string? afterKey, int limit, CancellationToken cancellationToken);

    Task<int> CountAsync(string resourceKind, string resourceName, CancellationToken cancellationToken);

    Task SetAsync(string resourceKind, string resourceName, IEnumerable<Tag> tags, CancellationToken cancellationToken);

    Task RemoveAsync(string resourceKind, string resourceName, IEnumerable<string> keys, CancellationToken cancellationToken);

    Task RemoveAllAsync(string resourceKind, string resourceName, CancellationToken cancellationToken);
}

public interface IAccessKeyRepository
{
    Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken);

    Task InsertAsync(AccessKey key, CancellationToken cancellationToken);

    Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken);

    Task<bool> AnyAsync(CancellationToken cancellationToken);
}

public interface ICertificateRepository
{
    Task<Certificate?> GetAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Inserts a certificate; throws ResourceAlreadyExists when its id is taken.</summary>
    Task InsertAsync(Certificate certificate, CancellationToken cancellationToken);

    Task UpdateAsync(Certificate certificate, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>Certificates by creation date (then id), optionally of one CA, after a <see cref="Paging.CreationKey"/>.</summary>
    Task<IReadOnlyList<Certificate>> ListAsync(string? caCertificateId, bool ascending, string? after, int limit, CancellationToken cancellationToken);
}

public interface ICaCertificateRepository
{
    Task<CaCertificate?> GetAsync(string certificateId, CancellationToken cancellationToken);

    Task<IReadOnlyList<CaCertificate>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Inserts a CA certificate; throws ResourceAlreadyExists when its id is taken.</summary>
    Task InsertAsync(CaCertificate certificate, CancellationToken cancellationToken);

    /// <summary>Replaces status, auto-registration, registration config and versions of a CA certificate.</summary>
    Task UpdateAsync(CaCertificate certificate, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>
    /// Registered (not managed) CA certificates by creation date (then id), after a
    /// <see cref="Paging.CreationKey"/>, optionally only those whose registration config names a template.
    /// </summary>
    Task<IReadOnlyList<CaCertificate>> ListRegisteredAsync(string? templateName, bool ascending, string? after, int limit, CancellationToken cancellationToken);

    /// <summary>Whether any device certificate names the CA as its issuer.</summary>
    Task<bool> HasDeviceCertificatesAsync(string certificateId, CancellationToken cancellationToken);

    /// <summary>The account's registration code, or null when none was made (or it was deleted).</summary>
    Task<string?> GetRegistrationCodeAsync(string accountId, CancellationToken cancellationToken);

    /// <summary>Stores the account's registration code unless it has one; returns the code in force.</summary>
    Task<string> EnsureRegistrationCodeAsync(string accountId, string code, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DeleteRegistrationCodeAsync(string accountId, CancellationToken cancellationToken);
}

public interface IThingPrincipalRepository
{
    /// <summary>Attaches, or changes the attachment type of, a principal; false when nothing changed.</summary>
    Task<bool> AttachAsync(ThingPrincipal principal, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DetachAsync(string thingName, string principalKind, string principalId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingPrincipal>> ListForThingAsync(string thingName, string? afterPrincipalId, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<ThingPrincipal>> ListForPrincipalAsync(string principalKind, string principalId, string? afterThingName, int limit, CancellationToken cancellationToken);

    Task<bool> ThingHasAnyAsync(string thingName, CancellationToken cancellationToken);
}

public interface IPolicyRepository
{
    Task<Policy?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a policy with its first version; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(Policy policy, PolicyVersion firstVersion, CancellationToken cancellationToken);

    Task UpdateAsync(Policy policy, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Policies by creation date (then name), after a <see cref="Paging.CreationKey"/>.</summary>
    Task<IReadOnlyList<Policy>> ListAsync(bool ascending, string? after, int limit, CancellationToken cancellationToken);

    Task<PolicyVersion?> GetVersionAsync(string policyName, long versionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<PolicyVersion>> ListVersionsAsync(string policyName, CancellationToken cancellationToken);

    Task InsertVersionAsync(PolicyVersion version, CancellationToken cancellationToken);

    Task<bool> DeleteVersionAsync(string policyName, long versionId, CancellationToken cancellationToken);

    Task<bool> AttachAsync(string policyName, PolicyTarget target, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> DetachAsync(string policyName, PolicyTarget target, CancellationToken cancellationToken);

    Task<int> DetachAllAsync(PolicyTarget target, CancellationToken cancellationToken);

    /// <summary>Names of the policies attached to any of the targets, ordered, after a name.</summary>
    Task<IReadOnlyList<string>> ListAttachedAsync(IReadOnlyList<PolicyTarget> targets, string? after, int limit, CancellationToken cancellationToken);

    Task<IReadOnlyList<PolicyTarget>> ListTargetsAsync(string policyName, string? after, int limit, CancellationToken cancellationToken);

    Task<int> CountAttachedAsync(PolicyTarget target, CancellationToken cancellationToken);

    Task<bool> IsAttachedAnywhereAsync(string policyName, CancellationToken cancellationToken);
}

public interface IProvisioningTemplateRepository
{
    Task<ProvisioningTemplate?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Inserts a template with its first version; throws ResourceAlreadyExists when the name is taken.</summary>
    Task InsertAsync(ProvisioningTemplate provisioningTemplate, ProvisioningTemplateVersion firstVersion, CancellationToken cancellationToken);

    Task UpdateAsync(ProvisioningTemplate provisioningTemplate, CancellationToken cancellationToken);

    /// <summary>Deletes a template with all its versions.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>Templates by name (byte order), after a name.</summary>
    Task<IReadOnlyList<ProvisioningTemplate>> ListAsync(string? after, int limit, CancellationToken cancellationToken);

    Task<ProvisioningTemplateVersion?> GetVersionAsync(string templateName, long versionId, CancellationToken cancellationToken);

    /// <summary>A template's versions, oldest (lowest id) first, after a version id.</summary>
    Task<IReadOnlyList<ProvisioningTemplateVersion>> ListVersionsAsync(string templateName, long? afterVersionId, int limit, CancellationToken cancellationToken);

    Task<int> CountVersionsAsync(string templateName, CancellationToken cancellationToken);

    Task InsertVersionAsync(ProvisioningTemplateVersion version, CancellationToken cancellationToken);

    Task<bool> DeleteVersionAsync(string templateName, long versionId, CancellationToken cancellationToken);
}

/// <summary>Helpers for callers that need a page and its token from a keyset query.</summary>
public static class Paging
{
    /// <summary>The page key of a resource listed by creation date: "unix-ms:id".</summary>
    public static string CreationKey(DateTimeOffset createdAt, string id) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{createdAt.ToUnixTimeMilliseconds()}:{id}");

    /// <summary>
    /// Turns "limit + 1" rows into a page: the extra row only says that another page exists; the page
    /// carries the key of its last item, from which the next one starts.
    /// </summary>
    public static Page<T> ToPage<T>(IReadOnlyList<T> rows, int limit, Func<T, string> key)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }

        var items = rows.Take(limit).ToArray();
        return new Page<T>(items, key(items[^1]));
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Access;

/// <summary>
/// Access keys for the control plane (SigV4). Ids look like AWS's (AKIA + 16 base-32 characters),
/// secrets are 40 random base-64 characters, shown once when created or rotated, and sealed at rest
/// under the CA passphrase when one is configured. A key is allowed what its identity policies allow
/// (<see cref="AccessAuthorizer"/>); the root key (<see cref="AccessKey.FullAccess"/>) everything.
/// </summary>
public sealed class AccessKeyService(IFleetStore store, PassphraseSealer sealer, TimeProvider time)
{
    /// <summary>How long a rotated-out secret keeps working unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultRotationGrace = TimeSpan.FromHours(24);

    /// <summary>The longest grace a rotation may give the old secret.</summary>
    public static readonly TimeSpan MaxRotationGrace = TimeSpan.FromDays(30);

    /// <summary>Policies a key may carry (IAM allows 10 managed policies on a user).</summary>
    public const int MaxPoliciesPerKey = 10;

    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    private const int MaxRecent = 1024;
    private const int MaxDescription = 1024;

    private readonly ConcurrentDictionary<string, (AccessKey Key, long Stamp)> _recent = new(StringComparer.Ordinal);

    /// <summary>Creates a key with the given policies (none: it may do nothing until one is attached).</summary>
    public async Task<AccessKey> CreateAsync(string? description, IReadOnlyList<AccessKeyPolicy> policies, bool fullAccess, CancellationToken cancellationToken)
    {
        var key = new AccessKey(NewId(), NewSecret(), description, time.GetUtcNow()) { FullAccess = fullAccess, Policies = policies };
        return await ImportAsync(key, cancellationToken);
    }

    /// <summary>Stores a key given whole (the root key from the environment); returns it with its secret in the clear.</summary>
    public async Task<AccessKey> ImportAsync(AccessKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.AccessKeyId.Length is < 16 or > 128 || !key.AccessKeyId.All(char.IsAsciiLetterOrDigit))
        {
            ThrowHelper.InvalidRequest("An access key id is 16 to 128 ASCII letters and digits.");
        }

        if (key.SecretAccessKey.Length < 16)
        {
            ThrowHelper.InvalidRequest("A secret access key is at least 16 characters.");
        }

        if (key.Description is { Length: > MaxDescription })
        {
            ThrowHelper.InvalidRequest($"A description is at most {MaxDescription} characters.");
        }

        CheckPolicies(key.Policies);
        var stored = Seal(key);
        await store.WriteAsync(async (session, ct) =>
        {
            await session.AccessKeys.InsertAsync(stored, ct);
            return true;
        }, cancellationToken);
        return key;
    }

    /// <summary>The key with its secrets opened, or null. A secret that cannot be opened here (another passphrase) reads as no key.</summary>
    public async Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync((session, ct) => session.AccessKeys.FindAsync(accessKeyId, ct), cancellationToken);
        return stored is null ? null : Open(stored);
    }

    /// <summary>
    /// <see cref="FindAsync"/> for every signed request: a key read is kept while the store reports no
    /// commit since (<see cref="IFleetStore.ChangeStampAsync"/>), so a key deleted, disabled or given another
    /// policy by the CLI or another node is seen from the next request on, and a read-only load reads no
    /// key from the database.
    /// </summary>
    public async Task<AccessKey?> FindForRequestAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        // The stamp is read before the key: a commit after it changes the stamp the entry is kept under.
        var stamp = await store.ChangeStampAsync(cancellationToken);
        if (stamp is { } current && _recent.TryGetValue(accessKeyId, out var recent) && recent.Stamp == current)
        {
            return recent.Key;
        }

        var key = await FindAsync(accessKeyId, cancellationToken);
        if (stamp is not { } read)
        {
            return key;
        }

        if (key is null)
        {
            _recent.TryRemove(accessKeyId, out _);
        }
        else
        {
            if (_recent.Count >= MaxRecent)
            {
                _recent.Clear();
            }

            _recent[accessKeyId] = (key, read);
        }

        return key;
    }

    /// <summary>Every key, secrets removed (list never shows a secret).</summary>
    public async Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await store.ReadAsync((session, ct) => session.AccessKeys.ListAsync(ct), cancellationToken)).Select(WithoutSecrets)];

    public Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken) =>
        store.WriteAsync((session, ct) => session.AccessKeys.DeleteAsync(accessKeyId, ct), cancellationToken);

    public Task<bool> AnyAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.AnyAsync(ct), cancellationToken);

    /// <summary>Turns a key on (Active) or off (Inactive: every request signed with it is refused as an unknown key).</summary>
    public async Task SetStatusAsync(string accessKeyId, string status, CancellationToken cancellationToken)
    {
        if (status is not (AccessKey.Active or AccessKey.Inactive))
        {
            ThrowHelper.InvalidRequest($"An access key's status is {AccessKey.Active} or {AccessKey.Inactive}, not {status}.");
        }

        if (!await store.WriteAsync((session, ct) => session.AccessKeys.UpdateStatusAsync(accessKeyId, status, ct), cancellationToken))
        {
            throw NotFound(accessKeyId);
        }
    }

    /// <summary>
    /// Gives the key a new secret (returned once, in the clear); the current one keeps working for
    /// <paramref name="grace"/> (zero: not at all), so that the clients using it can move.
    /// </summary>
    public async Task<AccessKey> RotateAsync(string accessKeyId, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (grace < TimeSpan.Zero || grace > MaxRotationGrace)
        {
            ThrowHelper.InvalidRequest($"A rotation's grace period is between 0 and {MaxRotationGrace.TotalDays} days.");
        }

        var now = time.GetUtcNow();
        var secret = NewSecret();
        var rotated = await store.WriteAsync(async (session, ct) =>
        {
            var stored = await session.AccessKeys.FindAsync(accessKeyId, ct);
            if (stored is null)
            {
                return null;
            }

            var current = Open(stored) ?? throw new ServiceException(ErrorCode.InvalidRequest, $"The secret of access key {accessKeyId} cannot be opened with this CA passphrase.");
            var next = current with
            {
                SecretAccessKey = secret,
                PreviousSecretAccessKey = grace > TimeSpan.Zero ? current.SecretAccessKey : null,
                PreviousSecretExpiresAt = grace > TimeSpan.Zero ? now + grace : null,
            };
            await session.AccessKeys.UpdateSecretsAsync(Seal(next), ct);
            return next;
        }, cancellationToken);
        return rotated ?? throw NotFound(accessKeyId);
    }

    /// <summary>Attaches an identity policy (checked as IAM checks one), replacing the document of one attached under the same name.</summary>
    public async Task AttachPolicyAsync(string accessKeyId, string policyName, string document, CancellationToken cancellationToken)
    {
        var policy = new AccessKeyPolicy(policyName, document, time.GetUtcNow());
        CheckPolicies([policy]);
        var attached = await store.WriteAsync(async (session, ct) =>
        {
            var key = await session.AccessKeys.FindAsync(accessKeyId, ct);
            if (key is null)
            {
                return false;
            }

            if (key.Policies.Count >= MaxPoliciesPerKey && !key.Policies.Any(p => p.PolicyName == policyName))
            {
                ThrowHelper.LimitExceeded($"Access key {accessKeyId} already has {MaxPoliciesPerKey} policies, the most a key may have.");
            }

            await session.AccessKeys.PutPolicyAsync(accessKeyId, policy, ct);
            return true;
        }, cancellationToken);
        if (!attached)
        {
            throw NotFound(accessKeyId);
        }
    }

    public async Task DetachPolicyAsync(string accessKeyId, string policyName, CancellationToken cancellationToken)
    {
        var detached = await store.WriteAsync(async (session, ct) =>
        {
            if (await session.AccessKeys.FindAsync(accessKeyId, ct) is null)
            {
                throw NotFound(accessKeyId);
            }

            return await session.AccessKeys.DeletePolicyAsync(accessKeyId, policyName, ct);
        }, cancellationToken);
        if (!detached)
        {
            ThrowHelper.NotFound($"Access key {accessKeyId} has no policy named {policyName}.");
        }
    }

    /// <summary>Seals every secret stored in the clear (made while no CA passphrase was configured); returns how many.</summary>
    public async Task<int> SealClearSecretsAsync(CancellationToken cancellationToken)
    {
        if (!sealer.Encrypts)
        {
            return 0;
        }

        return await store.WriteAsync(async (session, ct) =>
        {
            var count = 0;
            foreach (var key in await session.AccessKeys.ListAsync(ct))
            {
                if (key.SecretKekSalt is null || (key.PreviousSecretAccessKey is not null && key.PreviousSecretKekSalt is null))
                {
                    count += await session.AccessKeys.UpdateSecretsAsync(Seal(Open(key)!), ct) ? 1 : 0;
                }
            }

            return count;
        }, cancellationToken);
    }

    private static void CheckPolicies(IReadOnlyList<AccessKeyPolicy> policies)
    {
        if (policies.Count > MaxPoliciesPerKey)
        {
            ThrowHelper.LimitExceeded($"An access key may have at most {MaxPoliciesPerKey} policies.");
        }

        foreach (var policy in policies)
        {
            IdentityPolicies.CheckName(policy.PolicyName);
            IdentityPolicies.Parse(policy.Document);
        }

        var duplicate = policies.GroupBy(p => p.PolicyName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            ThrowHelper.InvalidRequest($"The policy name {duplicate.Key} is given twice.");
        }
    }

    private static ServiceException NotFound(string accessKeyId) =>
        new(ErrorCode.ResourceNotFound, $"Access key {accessKeyId} does not exist.");

    private static string NewId() => "AKIA" + RandomNumberGenerator.GetString(IdAlphabet, 16);

    private static string NewSecret() => RandomNumberGenerator.GetString(SecretAlphabet, 40);

    private static AccessKey WithoutSecrets(AccessKey key) => key with
    {
        SecretAccessKey = string.Empty,
        SecretKekSalt = null,
        PreviousSecretAccessKey = null,
        PreviousSecretKekSalt = null,
    };

    private static byte[] Context(string accessKeyId) => Encoding.UTF8.GetBytes("fleetkey access key " + accessKeyId);

    // The key as stored: its secrets sealed when a passphrase is configured.
    private AccessKey Seal(AccessKey key)
    {
        var context = Context(key.AccessKeyId);
        var secret = sealer.Seal(Encoding.UTF8.GetBytes(key.SecretAccessKey), context);
        var previous = key.PreviousSecretAccessKey is { } p ? sealer.Seal(Encoding.UTF8.GetBytes(p), context) : null;
        return key with
        {
            SecretAccessKey = secret.KekSalt is null ? key.SecretAccessKey : Convert.ToBase64String(secret.Data),
            SecretKekSalt = secret.KekSalt is null ? null : Convert.ToBase64String(secret.KekSalt),
            PreviousSecretAccessKey = previous is null ? null : previous.KekSalt is null ? key.PreviousSecretAccessKey : Convert.ToBase64String(previous.Data),
            PreviousSecretKekSalt = previous?.KekSalt is null ? null : Convert.ToBase64String(previous.KekSalt),
        };
    }

    // The key with its secrets in the clear, or null when the current one cannot be opened here.
    private AccessKey? Open(AccessKey stored)
    {
        var context = Context(stored.AccessKeyId);
        var secret = OpenOne(stored.SecretAccessKey, stored.SecretKekSalt, context);
        if (secret is null)
        {
            return null;
        }

        var previous = stored.PreviousSecretAccessKey is { } p && stored.PreviousSecretExpiresAt > time.GetUtcNow()
            ? OpenOne(p, stored.PreviousSecretKekSalt, context)
            : null;
        return stored with
        {
            SecretAccessKey = secret,
            SecretKekSalt = null,
            PreviousSecretAccessKey = previous,
            PreviousSecretKekSalt = null,
            PreviousSecretExpiresAt = previous is null ? null : stored.PreviousSecretExpiresAt,
        };
    }

    private string? OpenOne(string text, string? salt, byte[] context)
    {
        if (salt is null)
        {
            return text;
        }

        var opened = sealer.Open(new SealedSecret(Convert.FromBase64String(text), Convert.FromBase64String(salt)), context);
        if (opened is null)
        {
            return null;
        }

        var result = Encoding.UTF8.GetString(opened);
        CryptographicOperations.ZeroMemory(opened);
        return result;
    }
}

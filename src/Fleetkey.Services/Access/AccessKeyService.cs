using System.Collections.Concurrent;
using System.Security.Cryptography;
using Fleetkey.Core.Errors;
using Fleetkey.Core.Registry;
using Fleetkey.Storage;

namespace Fleetkey.Services.Access;

/// <summary>
/// Access keys for the control plane (SigV4). Ids look like AWS's (AKIA + 16 base-32 characters),
/// secrets are 40 random base-64 characters, shown once when created.
/// </summary>
public sealed class AccessKeyService(IFleetStore store, TimeProvider time)
{
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    private const int MaxRecent = 1024;

    private readonly ConcurrentDictionary<string, (AccessKey Key, long Stamp)> _recent = new(StringComparer.Ordinal);

    public Task<AccessKey> CreateAsync(string? description, CancellationToken cancellationToken)
    {
        var key = new AccessKey(
            "AKIA" + RandomNumberGenerator.GetString(IdAlphabet, 16),
            RandomNumberGenerator.GetString(SecretAlphabet, 40),
            description,
            time.GetUtcNow());
        return ImportAsync(key, cancellationToken);
    }

    /// <summary>Stores a key given from outside (the root key from the environment).</summary>
    public Task<AccessKey> ImportAsync(AccessKey key, CancellationToken cancellationToken)
    {
        if (key.AccessKeyId.Length is < 16 or > 128 || !key.AccessKeyId.All(char.IsAsciiLetterOrDigit))
        {
            ThrowHelper.InvalidRequest("An access key id is 16 to 128 ASCII letters and digits.");
        }

        if (key.SecretAccessKey.Length < 16)
        {
            ThrowHelper.InvalidRequest("A secret access key is at least 16 characters.");
        }

        return store.WriteAsync(async (session, ct) =>
        {
            await session.AccessKeys.InsertAsync(key, ct);
            return key;
        }, cancellationToken);
    }

    public Task<AccessKey?> FindAsync(string accessKeyId, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.FindAsync(accessKeyId, ct), cancellationToken);

    /// <summary>
    /// <see cref="FindAsync"/> for every signed request: a key read is kept while the store reports no
    /// commit since (<see cref="IFleetStore.ChangeStampAsync"/>), so a key deleted by the CLI or another
    /// node is refused from the next request on, and a read-only load reads no key from the database.
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

    public Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.ListAsync(ct), cancellationToken);

    public Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken) =>
        store.WriteAsync((session, ct) => session.AccessKeys.DeleteAsync(accessKeyId, ct), cancellationToken);

    public Task<bool> AnyAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.AnyAsync(ct), cancellationToken);
}

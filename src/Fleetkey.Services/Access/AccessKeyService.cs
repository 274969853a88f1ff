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

    public Task<IReadOnlyList<AccessKey>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.ListAsync(ct), cancellationToken);

    public Task<bool> DeleteAsync(string accessKeyId, CancellationToken cancellationToken) =>
        store.WriteAsync((session, ct) => session.AccessKeys.DeleteAsync(accessKeyId, ct), cancellationToken);

    public Task<bool> AnyAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.AccessKeys.AnyAsync(ct), cancellationToken);
}

namespace Fleetkey.Api.Authentication;

/// <summary>
/// Finds the secret access key that signs requests for an access key id. The SigV4 middleware
/// resolves it from the request's services, so a scoped implementation over the store works.
/// </summary>
public interface ISigningSecretProvider
{
    /// <summary>
    /// Returns the secret access key of <paramref name="accessKeyId"/>, or <see langword="null"/>
    /// when the key is unknown or no longer active. The caller never logs or echoes the secret.
    /// </summary>
    ValueTask<string?> FindSecretAsync(string accessKeyId, CancellationToken cancellationToken);

    /// <summary>
    /// The secret a rotation replaced, while it is still accepted (its grace period), or <see langword="null"/>:
    /// a signature that does not verify with the current secret is tried with this one.
    /// </summary>
    ValueTask<string?> FindPreviousSecretAsync(string accessKeyId, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);
}

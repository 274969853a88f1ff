using System.Security.Cryptography;
using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// Seals the enrollment keys and secrets stored in the clear (made while no CA passphrase was
/// configured) once a passphrase is: what the server does for the CA keys at start, so that setting
/// the passphrase later protects what is already stored.
/// </summary>
public static class EnrollmentSealing
{
    private const int Batch = 500;

    /// <summary>Seals every clear group key and device secret, a batch per transaction; returns how many. Nothing to do without a passphrase.</summary>
    public static async Task<int> SealClearSecretsAsync(IFleetStore store, PassphraseSealer sealer, CancellationToken cancellationToken)
    {
        if (!sealer.Encrypts)
        {
            return 0;
        }

        var sealedCount = 0;
        while (true)
        {
            // Each batch reads from the start: sealed rows leave the "unsealed" listing.
            var done = await store.WriteAsync(async (session, ct) =>
            {
                var count = 0;
                foreach (var group in await session.EnrollmentGroups.ListUnsealedAsync(null, Batch, ct))
                {
                    var sealedKey = sealer.Seal(group.GroupKeyData, EnrollmentSecrets.GroupKeyContext(group.Name));
                    count += await session.EnrollmentGroups.UpdateKeyAsync(group.Name, sealedKey.Data, sealedKey.KekSalt, ct) ? 1 : 0;
                    CryptographicOperations.ZeroMemory(group.GroupKeyData);
                }

                foreach (var enrollment in await session.Enrollments.ListUnsealedAsync(null, Batch, ct))
                {
                    var sealedSecret = sealer.Seal(enrollment.SecretData, EnrollmentSecrets.DeviceSecretContext(enrollment.SerialNumber));
                    count += await session.Enrollments.UpdateSecretAsync(enrollment.SerialNumber, sealedSecret.Data, sealedSecret.KekSalt, ct) ? 1 : 0;
                    CryptographicOperations.ZeroMemory(enrollment.SecretData);
                }

                return count;
            }, cancellationToken);
            if (done == 0)
            {
                return sealedCount;
            }

            sealedCount += done;
        }
    }
}

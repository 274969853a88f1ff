using System.Security.Cryptography;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Storage;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// The device endpoint's view of enrollments (<see cref="IDeviceEnrollmentResolver"/>): a serial's
/// individual enrollment, else the groups whose pattern admits it, each with the device secret opened
/// (or derived from the group key). Reads one snapshot of the store.
/// </summary>
/// <param name="scope">
/// The account of the enrollment ARNs, and the region of those stored without one (the device endpoint
/// has no SigV4 region: an enrollment's ARN is in the region of the signed request that created it).
/// </param>
internal sealed class EnrollmentResolver(IFleetStore store, PassphraseSealer sealer, IotScope scope) : IDeviceEnrollmentResolver
{
    private const int GroupPage = 500;

    public async Task<IReadOnlyList<DeviceEnrollment>> ResolveAsync(string serialNumber, CancellationToken cancellationToken)
    {
        // A serial that could not have been enrolled finds nothing (and is never a query parameter).
        if (!NameRules.IsRegistryName(serialNumber))
        {
            return [];
        }

        var (individual, groups) = await store.ReadAsync(async (session, ct) =>
        {
            var enrollment = await session.Enrollments.GetAsync(serialNumber, ct);
            if (enrollment is not null)
            {
                return ((Enrollment?)enrollment, (IReadOnlyList<EnrollmentGroup>)[]);
            }

            var matching = new List<EnrollmentGroup>();
            string? after = null;
            while (true)
            {
                var page = await session.EnrollmentGroups.ListAsync(after, GroupPage, ct);
                matching.AddRange(page.Where(g => g.SerialNumberPattern is null || EnrollmentRules.MatchesPattern(g.SerialNumberPattern, serialNumber)));
                if (page.Count < GroupPage)
                {
                    return ((Enrollment?)null, (IReadOnlyList<EnrollmentGroup>)matching);
                }

                after = page[^1].Name;
            }
        }, cancellationToken);

        if (individual is not null)
        {
            var secret = Open(individual.SecretData, individual.SecretKekSalt, EnrollmentSecrets.DeviceSecretContext(serialNumber), $"enrollment {serialNumber}");
            return
            [
                new DeviceEnrollment(
                    serialNumber,
                    Arn.For(InRegion(individual.Region), ResourceKind.Enrollment, serialNumber),
                    null,
                    secret,
                    individual.TemplateName,
                    individual.Enabled,
                    individual.AllowReprovisioning,
                    individual.Parameters),
            ];
        }

        var candidates = new List<DeviceEnrollment>(groups.Count);
        foreach (var group in groups)
        {
            var key = Open(group.GroupKeyData, group.GroupKeyKekSalt, EnrollmentSecrets.GroupKeyContext(group.Name), $"enrollment group {group.Name}");
            try
            {
                candidates.Add(new DeviceEnrollment(
                    serialNumber,
                    Arn.For(InRegion(group.Region), ResourceKind.EnrollmentGroup, group.Name),
                    group.Name,
                    EnrollmentSecrets.DeriveDeviceSecret(key, serialNumber),
                    group.TemplateName,
                    group.Enabled,
                    group.AllowReprovisioning,
                    group.Parameters));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        return candidates;
    }

    private IotScope InRegion(string? region) => region is null ? scope : scope with { Region = region };

    private byte[] Open(byte[] data, byte[]? kekSalt, byte[] context, string what) =>
        sealer.Open(new SealedSecret(data, kekSalt), context)
        ?? throw new InvalidOperationException(
            $"The secret of {what} is sealed and cannot be opened: {(sealer.Encrypts ? "the configured CA passphrase is not the one it was sealed with, or the row was altered" : "no CA passphrase is configured")}.");
}

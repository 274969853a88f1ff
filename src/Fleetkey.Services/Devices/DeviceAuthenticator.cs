using System.Security.Cryptography;
using Fleetkey.Services.Provisioning;
using Fleetkey.Storage;

namespace Fleetkey.Services.Devices;

/// <summary>
/// Checks a device's SharedAccessSignature: for its serial number, within its lifetime, signed with
/// the secret of one of the serial's enrollments, and not used before. Every failure is the same
/// refusal (<see cref="DeviceRegistrationRefused.Unauthorized"/>); only the audit says which it was.
/// </summary>
/// <remarks>
/// The time an answer takes says nothing either: an unknown serial costs a signature check against a
/// random secret, and every candidate enrollment is checked even after one matched. The token is not
/// used up here: that happens with the serial's rate, in one transaction
/// (<see cref="DeviceRegistrationService"/>), so a throttled device can retry with it.
/// </remarks>
internal sealed class DeviceAuthenticator(IFleetStore store, IDeviceEnrollmentResolver enrollments, DeviceEndpointOptions options)
{
    /// <summary>The enrollment whose secret signed <paramref name="token"/>; throws <see cref="DeviceRegistrationRefused"/> otherwise.</summary>
    public async Task<(DeviceEnrollment Enrollment, SharedAccessSignature Token)> AuthenticateAsync(
        SharedAccessSignature? token, DeviceRegistrationRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (token is null)
        {
            throw DeviceRegistrationRefused.Unauthorized("missing or malformed token");
        }

        if (!string.Equals(token.Resource, request.SerialNumber, StringComparison.Ordinal))
        {
            throw DeviceRegistrationRefused.Unauthorized("token for another serial number");
        }

        var expiry = DateTimeOffset.FromUnixTimeSeconds(Math.Min(token.Expiry, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
        if (expiry < now - options.ClockSkew)
        {
            throw DeviceRegistrationRefused.Unauthorized("token expired");
        }

        if (expiry > now + options.MaxTokenLifetime + options.ClockSkew)
        {
            throw DeviceRegistrationRefused.Unauthorized("token expiry too far ahead");
        }

        var candidates = await enrollments.ResolveAsync(request.SerialNumber, cancellationToken);
        if (candidates.Count == 0)
        {
            // As much work as a known serial with a wrong signature, so the answer's timing says nothing.
            Span<byte> decoy = stackalloc byte[32];
            RandomNumberGenerator.Fill(decoy);
            _ = token.IsSignedWith(decoy);
            throw DeviceRegistrationRefused.Unauthorized("unknown serial number");
        }

        DeviceEnrollment? matched = null;
        foreach (var candidate in candidates)
        {
            // Every candidate is tried even after a match, so the time does not depend on which one signed.
            if (token.IsSignedWith(candidate.DeviceSecret) && matched is null)
            {
                matched = candidate;
            }
        }

        if (matched is null)
        {
            throw DeviceRegistrationRefused.Unauthorized("wrong signature");
        }

        if (await store.ReadAsync((session, ct) => session.DeviceEndpoint.IsSignatureUsedAsync(token.ReplayKey(), ct), cancellationToken))
        {
            throw DeviceRegistrationRefused.Unauthorized("replayed token");
        }

        return (matched, token);
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Changes;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// The TLS handshake's second question, after the chain: may this certificate connect at all? It may
/// if the store has it ACTIVE, or if a registered ACTIVE CA with auto-registration signed it and it is
/// unknown or PENDING_ACTIVATION (just-in-time registration or provisioning decides at CONNECT). Any
/// other certificate — INACTIVE, REVOKED, deleted, never registered — fails the handshake, so it never
/// gets to send an MQTT byte (it used to be refused only at CONNECT, after MQTTnet had read the packet).
/// </summary>
/// <remarks>
/// SslStream asks its validation callback synchronously, so the store is read synchronously here: a
/// SQLite read completes at once, a PostgreSQL one holds the handshake's thread for a round trip. A
/// certificate's status is remembered while the fleet's change stamp (<see cref="FleetChanges"/>) stays
/// the same (as <see cref="AuthorizationCache"/> does), so a reconnecting fleet costs no read.
/// </remarks>
internal sealed class CertificateAdmission(
    FleetChanges changes, CertificateService certificates, RegisteredCaTrust registered, IOptions<MqttBrokerOptions> options, TimeProvider time)
{
    private const int MaxEntries = 100_000;

    // A store that does not answer within this fails the handshake; the device retries.
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Entry> _statuses = new(StringComparer.Ordinal);
    private readonly TimeSpan _maxAgeWithoutStamp = options.Value.RevocationPollInterval;

    private sealed record Entry(ChangeStamp Stamp, long LoadedAt, string? Status);

    /// <summary>Null when the certificate may go on to CONNECT; otherwise the refusal's metric reason.</summary>
    public string? Refusal(X509Certificate2 certificate)
    {
        var status = Status(DeviceAuthorizationService.CertificateId(certificate));
        if (status == CertificateStatus.Active)
        {
            return null;
        }

        if (status is null or CertificateStatus.PendingActivation
            && registered.FindIssuer(certificate) is { Record.AutoRegistrationStatus: AutoRegistrationStatus.Enable })
        {
            return null;
        }

        return status is null ? "certificate_unknown" : "certificate_not_active";
    }

    private string? Status(string certificateId)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        var stamp = Wait(changes.CurrentAsync(timeout.Token));
        if (_statuses.TryGetValue(certificateId, out var entry)
            && (stamp.IsKnown ? !stamp.ChangedSince(entry.Stamp) : !entry.Stamp.IsKnown && time.GetElapsedTime(entry.LoadedAt) < _maxAgeWithoutStamp))
        {
            return entry.Status;
        }

        var certificate = certificates.FindAsync(certificateId, timeout.Token).GetAwaiter().GetResult();
        if (_statuses.Count >= MaxEntries)
        {
            _statuses.Clear();
        }

        _statuses[certificateId] = new Entry(stamp, time.GetTimestamp(), certificate?.Status);
        return certificate?.Status;
    }

    private static T Wait<T>(ValueTask<T> task) => task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
}

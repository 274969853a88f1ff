using System.Collections.Concurrent;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Device authorizations by certificate and client id, kept while the store's change stamp stays the
/// same, so that a connect storm or a stream of publishes reads the store once per device and the
/// next operation after any commit (here, by the CLI or on another node) sees it.
/// </summary>
/// <remarks>
/// A store that cannot tell whether it changed gets no stamp; its entries are then kept for one
/// revocation poll interval, the delay within which the broker promises to act anyway. (SQLite and
/// PostgreSQL both have one; PostgreSQL's shows another node's commit within 100 ms.)
/// </remarks>
internal sealed class AuthorizationCache(
    IFleetStore store, DeviceAuthorizationService service, IOptions<MqttBrokerOptions> options, TimeProvider time)
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<(string CertificateId, string ClientId), Entry> _entries = new();
    private readonly string _accountId = options.Value.AccountId;
    private readonly TimeSpan _maxAgeWithoutStamp = options.Value.RevocationPollInterval;

    private sealed record Entry(long? Stamp, long LoadedAt, DeviceAuthorization? Value);

    /// <summary>The device's authorization, or null when the certificate is unknown to the store.</summary>
    public async ValueTask<DeviceAuthorization?> GetAsync(string certificateId, string clientId, CancellationToken cancellationToken)
    {
        // The stamp is read before the store, so a commit racing with the read changes it and the next call reloads.
        var stamp = await store.ChangeStampAsync(cancellationToken);
        var key = (certificateId, clientId);
        if (_entries.TryGetValue(key, out var entry) && IsFresh(entry, stamp))
        {
            return entry.Value;
        }

        var loaded = await service.LoadAsync(certificateId, clientId, _accountId, cancellationToken);
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[key] = new Entry(stamp, time.GetTimestamp(), loaded);
        return loaded;
    }

    /// <summary>Forgets a device's entries once its connection is gone.</summary>
    public void Forget(string certificateId, string clientId) => _entries.TryRemove((certificateId, clientId), out _);

    private bool IsFresh(Entry entry, long? stamp) =>
        stamp is not null ? entry.Stamp == stamp : entry.Stamp is null && time.GetElapsedTime(entry.LoadedAt) < _maxAgeWithoutStamp;
}

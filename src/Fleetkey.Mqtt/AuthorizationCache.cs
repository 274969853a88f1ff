using System.Collections.Concurrent;
using Fleetkey.Services.Changes;
using Fleetkey.Services.Security;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Device authorizations by certificate and client id, kept while the fleet's change stamp
/// (<see cref="FleetChanges"/>) stays the same, so that a connect storm or a stream of publishes reads
/// the store once per device and the next operation after any commit (here, by the CLI or on another
/// node) sees it.
/// </summary>
/// <remarks>
/// A store that cannot tell whether it changed gets no stamp; its entries are then kept for one
/// revocation poll interval, the delay within which the broker promises to act anyway. (SQLite and
/// PostgreSQL both have one; PostgreSQL's shows another node's commit within 100 ms.)
/// A device that disconnected keeps its entry (still checked against the stamp) among the last
/// <see cref="MaxKeptAfterDisconnect"/> to disconnect: a device that reconnects (a flaky network, a
/// broker restart's reconnect storm) is then answered without a store read.
/// </remarks>
internal sealed class AuthorizationCache(
    FleetChanges changes, DeviceAuthorizationService service, IOptions<MqttBrokerOptions> options, TimeProvider time, BrokerMetrics metrics)
{
    private const int MaxEntries = 100_000;

    /// <summary>Entries of disconnected devices kept for their reconnect, the oldest dropped first.</summary>
    internal const int MaxKeptAfterDisconnect = 10_000;

    private readonly ConcurrentDictionary<(string CertificateId, string ClientId), Entry> _entries = new();
    private readonly ConcurrentQueue<(string CertificateId, string ClientId)> _disconnected = new();
    private readonly string _accountId = options.Value.AccountId;
    private readonly TimeSpan _maxAgeWithoutStamp = options.Value.RevocationPollInterval;

    private sealed record Entry(ChangeStamp Stamp, long LoadedAt, DeviceAuthorization? Value);

    /// <summary>The device's authorization, or null when the certificate is unknown to the store.</summary>
    public async ValueTask<DeviceAuthorization?> GetAsync(string certificateId, string clientId, CancellationToken cancellationToken)
    {
        // The stamp is read before the store, so a commit racing with the read changes it and the next call reloads.
        var stamp = await changes.CurrentAsync(cancellationToken);
        var key = (certificateId, clientId);
        if (_entries.TryGetValue(key, out var entry) && IsFresh(entry, stamp))
        {
            metrics.AuthorizationLookup(hit: true);
            return entry.Value;
        }

        metrics.AuthorizationLookup(hit: false);
        var loaded = await service.LoadAsync(certificateId, clientId, _accountId, cancellationToken);
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[key] = new Entry(stamp, time.GetTimestamp(), loaded);
        return loaded;
    }

    /// <summary>
    /// A device's connection is gone: its entry is kept for a reconnect until
    /// <see cref="MaxKeptAfterDisconnect"/> devices disconnected after it. (Dropping the entry of a
    /// device that reconnected meanwhile costs it one store read, never a stale answer.)
    /// </summary>
    public void Forget(string certificateId, string clientId)
    {
        _disconnected.Enqueue((certificateId, clientId));
        while (_disconnected.Count > MaxKeptAfterDisconnect && _disconnected.TryDequeue(out var oldest))
        {
            _entries.TryRemove(oldest, out _);
        }
    }

    private bool IsFresh(Entry entry, ChangeStamp stamp) =>
        stamp.IsKnown ? !stamp.ChangedSince(entry.Stamp) : !entry.Stamp.IsKnown && time.GetElapsedTime(entry.LoadedAt) < _maxAgeWithoutStamp;
}

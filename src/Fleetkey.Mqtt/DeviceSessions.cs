using System.Collections;
using System.Collections.Concurrent;

namespace Fleetkey.Mqtt;

/// <summary>
/// The device connections of this node by client id. The CONNECT check hands a connection's
/// <see cref="DeviceSession"/> to MQTTnet with the session's items; it is registered here once MQTTnet
/// has sent the CONNACK and removed when the connection ends.
/// </summary>
internal sealed class DeviceSessions
{
    private const string ItemKey = "fleetkey.device";

    private readonly ConcurrentDictionary<string, DeviceSession> _sessions = new(StringComparer.Ordinal);
    private readonly ChangeSignal _changed = new();
    private long _registrations;

    /// <summary>Client ids of the devices connected now.</summary>
    public IReadOnlyCollection<string> ClientIds => [.. _sessions.Keys];

    /// <summary>
    /// The sessions, read as they are while the caller goes through them (no copy, no lock): each one
    /// registered before and still registered after is seen.
    /// </summary>
    public IEnumerable<DeviceSession> All => _sessions.Select(static pair => pair.Value);

    /// <summary>
    /// How many sessions were ever added: a session counted here is in <see cref="All"/> until it is
    /// removed, so a reader that saw the same count twice knows no session came in between.
    /// </summary>
    public long Registrations => Interlocked.Read(ref _registrations);

    /// <summary>Completes at the next session added or removed (for tests).</summary>
    internal Task NextChange => _changed.Next;

    /// <summary>Hands a session accepted at CONNECT to MQTTnet's session items, where the connection's events find it.</summary>
    public static void Attach(IDictionary sessionItems, DeviceSession session) => sessionItems[ItemKey] = session;

    /// <summary>The session a connection's items hold, or null (a connection the broker did not accept).</summary>
    public static DeviceSession? From(IDictionary? sessionItems) => sessionItems?[ItemKey] as DeviceSession;

    /// <summary>The connected session of <paramref name="clientId"/>, else the one the items hold.</summary>
    public DeviceSession? Find(string? clientId, IDictionary? sessionItems) =>
        clientId is not null && _sessions.TryGetValue(clientId, out var session) ? session : From(sessionItems);

    public DeviceSession? Find(string clientId) => _sessions.GetValueOrDefault(clientId);

    /// <summary>Whether <paramref name="session"/> is its client id's connection now (not closed, not taken over).</summary>
    public bool IsCurrent(DeviceSession session) =>
        _sessions.TryGetValue(session.ClientId, out var current) && ReferenceEquals(current, session);

    public void Add(DeviceSession session)
    {
        _sessions[session.ClientId] = session;
        Interlocked.Increment(ref _registrations);
        _changed.Raise();
    }

    /// <summary>
    /// Removes <paramref name="session"/>, unless a takeover's new connection is already registered under
    /// the same client id; true when it was removed.
    /// </summary>
    public bool Remove(DeviceSession session)
    {
        var removed = _sessions.TryRemove(new KeyValuePair<string, DeviceSession>(session.ClientId, session));
        _changed.Raise();
        return removed;
    }
}

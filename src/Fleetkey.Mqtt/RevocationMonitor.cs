using System.Runtime.CompilerServices;
using Fleetkey.Services.Changes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fleetkey.Mqtt;

/// <summary>
/// Live revocation: every <see cref="MqttBrokerOptions.RevocationPollInterval"/>, each connection whose
/// rights were last checked before the fleet's latest change (or, for a store without a change stamp,
/// every connection) is checked again, and closed when its certificate is no longer ACTIVE (or was
/// deleted) or its policies no longer allow it to connect. A monitor with its own loop, as MQTTnet's
/// <c>MqttServerKeepAliveMonitor</c>: <see cref="Start"/>ed with the broker, stopped and awaited before it.
/// </summary>
/// <remarks>
/// A connection counts as checked at a stamp only once its check under that stamp has completed. A pass
/// that fails (the store) or is cancelled leaves the connections it did not reach as they were, and a
/// revoked connection that does not close within <see cref="DisconnectTimeout"/> (an MQTT 5 client is
/// sent a DISCONNECT first, which waits on a client that does not read) is not waited for: the next
/// tick checks them again. A new connection is checked at the first tick after it registered, whatever
/// the stamp: MQTTnet sends the CONNACK before it reports the connection, so a change committed in
/// between may have been seen by a pass that did not see the connection yet.
/// </remarks>
internal sealed class RevocationMonitor(
    FleetChanges changes,
    DeviceSessions sessions,
    AuthorizationCache authorizations,
    BrokerServer server,
    BrokerMetrics metrics,
    IOptions<MqttBrokerOptions> options,
    TimeProvider time,
    ILogger<MqttBroker> logger) : IDisposable
{
    /// <summary>How long a pass waits for one revoked connection to close before it moves on.</summary>
    internal static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(5);

    private readonly ConditionalWeakTable<DeviceSession, Checked> _checked = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ChangeSignal _passed = new();
    private Task _loop = Task.CompletedTask;

    // Every connection registered up to _allCheckedRegistrations was checked at _allCheckedAt: a tick that
    // finds the same stamp and no new connection has nothing to do.
    private ChangeStamp _allCheckedAt;
    private long _allCheckedRegistrations = -1;

    // What the monitor knows of one connection: the stamp it was last checked at, and whether it was revoked.
    private sealed class Checked
    {
        public ChangeStamp At;
        public bool Revoked;
    }

    /// <summary>Completes at the end of the next pass, whatever its outcome (for tests).</summary>
    internal Task NextPass => _passed.Next;

    public void Start() => _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);

    /// <summary>Ends the loop and waits for it (a pass in progress is cancelled).</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await CheckAsync(cancellationToken);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                {
                    // Whatever it was (an OperationCanceledException of the store's own included), the loop goes on.
                    BrokerLog.WatchFailed(logger, exception);
                }
                finally
                {
                    _passed.Raise();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        // Both read before the sessions: a change or a connection after them makes the next tick look again.
        var stamp = await changes.CurrentAsync(cancellationToken);
        var registrations = sessions.Registrations;
        if (!stamp.ChangedSince(_allCheckedAt) && registrations == _allCheckedRegistrations)
        {
            return;
        }

        var complete = true;
        foreach (var session in sessions.All)
        {
            var state = _checked.GetValue(session, static _ => new Checked());
            if (!stamp.ChangedSince(state.At))
            {
                continue;
            }

            var authorization = await authorizations.GetAsync(session.CertificateId, session.ClientId, cancellationToken);
            if ((authorization is null || !authorization.MayConnect(session.ClientId))
                && !await RevokeAsync(session, state, authorization is null ? "deleted" : authorization.Certificate.Status, cancellationToken))
            {
                complete = false;
                continue;
            }

            state.At = stamp;
        }

        if (complete)
        {
            (_allCheckedAt, _allCheckedRegistrations) = (stamp, registrations);
        }
    }

    /// <summary>Closes a connection that may no longer connect; false when closing it did not finish in time.</summary>
    private async Task<bool> RevokeAsync(DeviceSession session, Checked state, string why, CancellationToken cancellationToken)
    {
        // A takeover's new connection under the same client id is checked on its own.
        if (!sessions.IsCurrent(session))
        {
            return true;
        }

        if (!state.Revoked)
        {
            state.Revoked = true;
            metrics.Revoked();
            BrokerLog.Revoked(logger, session.ClientId, session.CertificateId, why);
        }

        try
        {
            await server.DisconnectAsync(session.ClientId).WaitAsync(DisconnectTimeout, time, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            BrokerLog.RevocationDisconnectSlow(logger, session.ClientId, DisconnectTimeout);
            return false;
        }
    }
}

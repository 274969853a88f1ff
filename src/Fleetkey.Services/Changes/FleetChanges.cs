using Fleetkey.Storage;

namespace Fleetkey.Services.Changes;

/// <summary>
/// What changed in the fleet since a stamp: the one way an adapter that keeps what it read (the broker's
/// authorization cache, its TLS admission, its revocation monitor, its registered-CA snapshot) learns
/// that it must read again, whether the change was committed by this process, the CLI or another node.
/// </summary>
/// <remarks>
/// The stamp is the store's (<see cref="IFleetStore.ChangeStampAsync"/>): this process's commits show
/// at the next call; another process's at once on SQLite, within 100 ms on PostgreSQL.
/// </remarks>
public sealed class FleetChanges(IFleetStore store)
{
    /// <summary>The stamp now; <see cref="ChangeStamp.Unknown"/> when the store cannot tell (then nothing read may be kept).</summary>
    public async ValueTask<ChangeStamp> CurrentAsync(CancellationToken cancellationToken) =>
        new(await store.ChangeStampAsync(cancellationToken));

    /// <summary>Whether anything may have been committed since <paramref name="seen"/>, and the stamp now.</summary>
    public async ValueTask<(bool Changed, ChangeStamp Now)> SinceAsync(ChangeStamp seen, CancellationToken cancellationToken)
    {
        var now = await CurrentAsync(cancellationToken);
        return (now.ChangedSince(seen), now);
    }
}

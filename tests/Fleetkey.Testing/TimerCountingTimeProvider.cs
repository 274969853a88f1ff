using Microsoft.Extensions.Time.Testing;

namespace Fleetkey.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers set on it and the times they fired. The fake
/// clock fires a due timer within <see cref="FakeTimeProvider.Advance"/>, so the counts are exact when
/// Advance returns: a test can assert that nothing fired (a period is not over yet) without waiting, and
/// wait with <see cref="Signals.WaitUntilAsync"/> on <see cref="NextChange"/> for a timer being set (code
/// that has reached its backoff or its wait).
/// </summary>
public sealed class TimerCountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ChangeSignal _changes = new();
    private int _timersSet;
    private int _fired;

    /// <summary>Timers created so far (a <c>Task.Delay</c> with a non-zero delay, a <c>PeriodicTimer</c>).</summary>
    public int TimersSet => Volatile.Read(ref _timersSet);

    /// <summary>How many times any of them fired (a periodic timer counts once per period).</summary>
    public int Fired => Volatile.Read(ref _fired);

    /// <summary>Completes the next time a timer is set or fires.</summary>
    public Task NextChange => _changes.Next;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = base.CreateTimer(
            s =>
            {
                Interlocked.Increment(ref _fired);
                _changes.Raise();
                callback(s);
            },
            state,
            dueTime,
            period);
        Interlocked.Increment(ref _timersSet);
        _changes.Raise();
        return timer;
    }
}

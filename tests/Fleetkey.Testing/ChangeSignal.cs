namespace Fleetkey.Testing;

/// <summary>
/// What a test double raises each time something a test may wait for changes (a round ran, a value was
/// recorded, a write began), in the shape <see cref="Signals.WaitUntilAsync"/> takes: <see cref="Next"/>
/// completes at the next <see cref="Raise"/>.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = NewSignal();

    /// <summary>Completes at the next <see cref="Raise"/>. Take it before looking, so that a change in between is not missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Completes every task <see cref="Next"/> has given out so far; call it after the change is visible.</summary>
    public void Raise() => Interlocked.Exchange(ref _next, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
